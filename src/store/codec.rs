//! The one value codec: a version byte followed by JSON, wrapped as a typed redb `Value` (`Versioned<T>`).

use std::fmt;
use std::marker::PhantomData;

use redb::{TypeName, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

/// The format new rows are written in. Older formats stay readable in [`Versioned::decode`].
pub const CURRENT_FORMAT: u8 = 1;
/// Format 1: the value as serde_json bytes.
const FORMAT_JSON: u8 = 1;

/// A type kept as a table's value. `NAME` becomes part of redb's type name, so it must never
/// change once rows exist (rename the Rust type freely; keep the name).
pub trait Record: Serialize + DeserializeOwned + 'static {
    const NAME: &'static str;
}

/// The stored bytes of a `T`. redb's `from_bytes` cannot fail, so decoding is deferred to
/// [`Versioned::decode`], which reports an unreadable row as [`StoreError::Corrupt`].
pub struct Versioned<T> {
    bytes: Vec<u8>,
    _of: PhantomData<fn() -> T>,
}

impl<T: Record> Versioned<T> {
    /// Encode `value` in the current format. `table` names the table in the error.
    pub fn encode(value: &T, table: &'static str) -> Result<Versioned<T>, StoreError> {
        let mut bytes = vec![CURRENT_FORMAT];
        serde_json::to_writer(&mut bytes, value).map_err(|e| StoreError::Corrupt {
            table,
            detail: format!("cannot encode a {}: {e}", T::NAME),
        })?;
        Ok(Versioned::from_raw(bytes))
    }

    /// Decode, whatever format the row was written in. `table` names the table in the error.
    pub fn decode(&self, table: &'static str) -> Result<T, StoreError> {
        let corrupt = |detail: String| StoreError::Corrupt { table, detail };
        match self.bytes.split_first() {
            None => Err(corrupt(format!("empty {} row", T::NAME))),
            Some((&FORMAT_JSON, json)) => serde_json::from_slice(json)
                .map_err(|e| corrupt(format!("{} row does not decode: {e}", T::NAME))),
            Some((&other, _)) => Err(corrupt(format!(
                "{} row has codec version {other}, this sitegate reads up to {CURRENT_FORMAT}",
                T::NAME
            ))),
        }
    }
}

impl<T> Versioned<T> {
    /// Wrap bytes as stored (version byte included), without checking them.
    pub fn from_raw(bytes: Vec<u8>) -> Versioned<T> {
        Versioned {
            bytes,
            _of: PhantomData,
        }
    }

    /// The stored bytes, version byte first.
    pub fn raw(&self) -> &[u8] {
        &self.bytes
    }
}

impl<T> fmt::Debug for Versioned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Versioned")
            .field("format", &self.bytes.first())
            .field("len", &self.bytes.len())
            .finish()
    }
}

impl<T: Record> Value for Versioned<T> {
    type SelfType<'a>
        = Versioned<T>
    where
        Self: 'a;
    type AsBytes<'a>
        = &'a [u8]
    where
        Self: 'a;

    fn fixed_width() -> Option<usize> {
        None
    }

    fn from_bytes<'a>(data: &'a [u8]) -> Versioned<T>
    where
        Self: 'a,
    {
        Versioned::from_raw(data.to_vec())
    }

    fn as_bytes<'a, 'b: 'a>(value: &'a Versioned<T>) -> &'a [u8]
    where
        Self: 'b,
    {
        &value.bytes
    }

    fn type_name() -> TypeName {
        TypeName::new(&format!("sitegate::{}", T::NAME))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Thing {
        name: String,
    }

    impl Record for Thing {
        const NAME: &'static str = "thing";
    }

    #[test]
    fn round_trips_with_a_leading_version_byte() {
        let thing = Thing {
            name: "Zoë Ñúñez 王".into(),
        };
        let v = Versioned::encode(&thing, "things").unwrap();
        assert_eq!(v.raw()[0], CURRENT_FORMAT);
        let back: Versioned<Thing> = <Versioned<Thing> as Value>::from_bytes(v.raw());
        assert_eq!(back.decode("things").unwrap(), thing);
    }

    #[test]
    fn unknown_version_and_garbage_are_corrupt_not_panics() {
        let future: Versioned<Thing> = Versioned::from_raw(b"\x09{\"name\":\"x\"}".to_vec());
        let err = future.decode("things").unwrap_err();
        assert!(
            matches!(err, StoreError::Corrupt { table: "things", .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("codec version 9"), "{err}");
        let empty: Versioned<Thing> = Versioned::from_raw(Vec::new());
        assert!(matches!(empty.decode("things"), Err(StoreError::Corrupt { .. })));
        let garbage: Versioned<Thing> = Versioned::from_raw(b"\x01not json".to_vec());
        assert!(matches!(
            garbage.decode("things"),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
