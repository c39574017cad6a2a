// Passkeys: the only script on Tessera's pages. A form marked data-passkey ("create" or
// "get") fetches its ceremony's options from data-options (posting the form's own
// fields, CSRF token included), runs the browser's passkey prompt, puts the answer in
// the form's "credential" field and posts the form. Without this script (or without
// passkey support) those forms stay hidden and every other way to sign in still works.
(function () {
  "use strict";

  function decode(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function encode(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    var pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    pk.user.id = decode(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = decode(c.id); });
    return { publicKey: pk };
  }

  function requestOptions(options) {
    var pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = decode(c.id); });
    return { publicKey: pk };
  }

  function extensions(credential) {
    var results = credential.getClientExtensionResults ? credential.getClientExtensionResults() : {};
    return results.credProps ? { credProps: results.credProps } : {};
  }

  function created(c) {
    return {
      id: c.id,
      rawId: encode(c.rawId),
      type: c.type,
      response: {
        attestationObject: encode(c.response.attestationObject),
        clientDataJSON: encode(c.response.clientDataJSON)
      },
      extensions: extensions(c)
    };
  }

  function asserted(c) {
    return {
      id: c.id,
      rawId: encode(c.rawId),
      type: c.type,
      response: {
        authenticatorData: encode(c.response.authenticatorData),
        clientDataJSON: encode(c.response.clientDataJSON),
        signature: encode(c.response.signature),
        userHandle: c.response.userHandle ? encode(c.response.userHandle) : null
      },
      extensions: {}
    };
  }

  function say(form, message) {
    var where = form.querySelector("[data-passkey-error]");
    if (where) {
      where.textContent = message;
      where.hidden = false;
    }
  }

  function fetchOptions(form) {
    var body = new URLSearchParams(new FormData(form));
    body.delete("credential");
    return fetch(form.dataset.options, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) {
          throw new Error(json.error || "This page has expired. Reload it and try again.");
        }
        return json;
      });
    });
  }

  function run(form, button) {
    var create = form.dataset.passkey === "create";
    if (!form.reportValidity()) return;
    button.disabled = true;
    fetchOptions(form)
      .then(function (options) {
        return create
          ? navigator.credentials.create(creationOptions(options)).then(created)
          : navigator.credentials.get(requestOptions(options)).then(asserted);
      })
      .then(function (answer) {
        form.elements.credential.value = JSON.stringify(answer);
        form.submit();
      })
      .catch(function (e) {
        button.disabled = false;
        if (e && e.name === "NotAllowedError") {
          say(form, "The passkey prompt was closed or timed out. Try again when you are ready.");
        } else if (e && e.name === "InvalidStateError") {
          say(form, "This passkey is registered already.");
        } else {
          say(form, (e && e.message) || "The passkey did not work. Try again.");
        }
      });
  }

  if (!window.PublicKeyCredential || !navigator.credentials) return;
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      run(form, form.querySelector("button"));
    });
  });
  document.querySelectorAll("[data-passkey-only]").forEach(function (el) { el.hidden = false; });
})();
