//! Reading and writing JSON object fields without indexing, which panics on a write
//! to a value that is no object; library code denies `clippy::indexing_slicing`.
use serde_json::Value;

pub trait JsonFields {
    /// The field's value, or null when absent or when this is no object (what
    /// `value["key"]` reads, without the index).
    fn field(&self, key: &str) -> &Value;
    /// Sets a field of an object; on anything else it does nothing.
    fn set(&mut self, key: &str, value: Value);
}

impl JsonFields for Value {
    fn field(&self, key: &str) -> &Value {
        self.get(key).unwrap_or(&Value::Null)
    }

    fn set(&mut self, key: &str, value: Value) {
        if let Some(obj) = self.as_object_mut() {
            obj.insert(key.to_string(), value);
        }
    }
}
