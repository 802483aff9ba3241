//! serde helpers: byte strings as lowercase hex in JSON.

/// `Vec<u8>` as a lowercase hex string.
pub mod bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as lowercase hex.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }

    /// Deserializes from hex (either case).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <String as Deserialize>::deserialize(d)?;
        hex::decode(s).map_err(serde::de::Error::custom)
    }
}

/// `Option<Vec<u8>>` as a lowercase hex string or `null`.
pub mod opt_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes as lowercase hex or `null`.
    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    /// Deserializes from hex or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s = <Option<String> as Deserialize>::deserialize(d)?;
        s.map(|s| hex::decode(s).map_err(serde::de::Error::custom)).transpose()
    }
}
