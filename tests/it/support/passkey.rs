//! A passkey as a browser holds one: webauthn-authenticator-rs's software authenticator
//! (ES256, a counter that goes up with each use), which also remembers the credential
//! and the user handle it was made for, as a discoverable (resident) credential does.
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::AllowCredentials;

pub struct Authenticator {
    key: SoftPasskey,
    origin: Url,
    /// The credential made, and the user handle it was made for.
    made: Option<(Vec<u8>, Vec<u8>)>,
}

impl Authenticator {
    /// An authenticator that verifies its user (PIN or biometrics, as a passkey does),
    /// in a browser at `origin`.
    pub fn new(origin: &str) -> Self {
        Self {
            key: SoftPasskey::new(true),
            origin: Url::parse(origin).expect("origin"),
            made: None,
        }
    }

    /// Answers `navigator.credentials.create` with the server's options (JSON).
    pub fn create(&mut self, options: &str) -> String {
        let options: CreationChallengeResponse = serde_json::from_str(options).expect("creation options");
        let user = options.public_key.user.id.clone();
        let answer = self
            .key
            .do_registration(self.origin.clone(), options)
            .expect("the authenticator makes a credential");
        self.made = Some((answer.raw_id.clone(), user));
        serde_json::to_string(&answer).expect("json")
    }

    /// Answers `navigator.credentials.get` (JSON). With no credentials allowed (a
    /// discoverable sign-in), it offers the one it holds.
    pub fn get(&mut self, options: &str) -> String {
        let mut options: RequestChallengeResponse = serde_json::from_str(options).expect("request options");
        let (id, user) = self.made.clone().expect("a credential made first");
        if options.public_key.allow_credentials.is_empty() {
            options.public_key.allow_credentials.push(AllowCredentials {
                type_: "public-key".into(),
                id,
                transports: None,
            });
        }
        let mut answer = self
            .key
            .do_authentication(self.origin.clone(), options)
            .expect("the authenticator signs");
        answer.response.user_handle = Some(user);
        serde_json::to_string(&answer).expect("json")
    }
}
