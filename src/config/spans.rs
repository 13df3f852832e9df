//! Where each key sits in the TOML text, so that an error found after merging (a rule between
//! keys, a range) can still name the file line that set the value.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

/// Dotted key (`server.listen`) -> byte range of the key in `text`. Best effort: on any surprise
/// (the text was already validated, so there should be none) the map is simply incomplete.
pub(crate) fn key_spans(text: &str) -> HashMap<String, Range<usize>> {
    let mut spans = HashMap::new();
    let seed = SpanSeed {
        prefix: String::new(),
        out: &mut spans,
    };
    // An error only means fewer keys were recorded; messages then lack a line number.
    let _ = seed.deserialize(toml::Deserializer::new(text));
    spans
}

/// 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

struct SpanSeed<'a> {
    prefix: String,
    out: &'a mut HashMap<String, Range<usize>>,
}

impl<'de> DeserializeSeed<'de> for SpanSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SpanSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let dotted = if self.prefix.is_empty() {
                key.get_ref().clone()
            } else {
                format!("{}.{}", self.prefix, key.get_ref())
            };
            self.out.insert(dotted.clone(), key.span());
            map.next_value_seed(SpanSeed {
                prefix: dotted,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
}
