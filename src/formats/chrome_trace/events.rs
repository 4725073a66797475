//! One trace event's JSON, read into what poolscope uses of it and no more: its phase,
//! name, category, pid, tid, times, and the few `args` it understands. Texts are borrowed
//! from the event's bytes where they need no unescaping; every other key, and every other
//! argument however large, is skipped without being built.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::Id;
use super::scan::Element;
use crate::formats::Problem;

/// One trace event, as far as poolscope reads it.
#[derive(Debug, Deserialize)]
pub(super) struct RawEvent<'a> {
    #[serde(borrow)]
    pub ph: Option<Text<'a>>,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub cat: Option<Text<'a>>,
    pub pid: Option<Id>,
    pub tid: Option<Id>,
    pub ts: Option<f64>,
    pub dur: Option<f64>,
    /// Boxed: the event is moved a few times on its way, its args need not be.
    #[serde(borrow)]
    pub args: Option<Box<Args<'a>>>,
    /// Whether the event is `{}`: a terminator some writers end the array with.
    #[serde(skip)]
    pub empty: bool,
}

/// The `args` poolscope understands: names and sort order (metadata), the OS ids and
/// ready time of its own threads, a task's number, input, result, error, status and CPU
/// time, a counter's shares or switch counts. Any type is accepted for each (a wrong one reads as absent).
#[derive(Debug, Default, Deserialize)]
pub(super) struct Args<'a> {
    #[serde(borrow)]
    pub name: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub sort_index: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub os_pid: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub os_tid: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub ready_ts: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub task: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub input: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub result: Option<&'a RawValue>,
    #[serde(borrow)]
    pub error: Option<&'a RawValue>,
    #[serde(borrow)]
    pub status: Option<&'a RawValue>,
    #[serde(borrow)]
    pub cpu_time_s: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub running: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub runnable: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub blocked: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub voluntary: Option<Scalar<'a>>,
    #[serde(borrow)]
    pub involuntary: Option<Scalar<'a>>,
}

/// A string, borrowed from the event's bytes unless it has escapes to undo (serde's own
/// `Cow<str>` inside an `Option` always copies).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Text<'a>(pub Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// An argument's value, whatever its type: numbers and strings kept, the rest skipped.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar<'a> {
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    Other,
}

impl Scalar<'_> {
    /// A whole number ≥ 0 (as `serde_json::Value::as_u64`).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Scalar::U64(n) => Some(n),
            _ => None,
        }
    }

    /// A whole number (as `Value::as_i64`).
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Scalar::U64(n) => i64::try_from(n).ok(),
            Scalar::I64(n) => Some(n),
            _ => None,
        }
    }

    /// Any number (as `Value::as_f64`).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Scalar::U64(n) => Some(n as f64),
            Scalar::I64(n) => Some(n as f64),
            Scalar::F64(n) => Some(n),
            _ => None,
        }
    }

    /// A string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl<'de> Visitor<'de> for ScalarVisitor {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::F64(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// An argument as text: a string's own text, anything else as its JSON.
pub(super) fn text(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let raw = raw?.get();
    if raw.starts_with('"') {
        serde_json::from_str::<Cow<'_, str>>(raw).ok()
    } else {
        Some(Cow::Borrowed(raw))
    }
}

/// Reads `element` as an event; a problem is placed in the file (line and column).
pub(super) fn parse<'a>(element: &Element<'a>) -> Result<RawEvent<'a>, Problem> {
    match serde_json::from_slice::<RawEvent<'a>>(element.bytes) {
        Ok(mut event) => {
            event.empty = element
                .bytes
                .iter()
                .filter(|b| !b.is_ascii_whitespace())
                .eq(b"{}".iter());
            Ok(event)
        }
        Err(e) => {
            // serde places the problem within the event: place it within the file.
            let (line, column) = (e.line() as u64, e.column() as u64);
            let (line, column) = if line <= 1 {
                (element.line, element.column + column.saturating_sub(1))
            } else {
                (element.line + line - 1, column)
            };
            let text = e.to_string();
            let text = text.split(" at line ").next().unwrap_or_default();
            let message = if e.is_syntax() || e.is_eof() {
                format!("not valid JSON: {text}")
            } else {
                format!(
                    "not a trace event ({text}): expected {{\"ph\", \"name\", \"pid\", \"tid\", \"ts\", …}}"
                )
            };
            Err(Problem {
                line: Some(line),
                column: Some(column.to_string()),
                message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(text: &str) -> Element<'_> {
        Element {
            line: 10,
            column: 5,
            bytes: text.as_bytes(),
        }
    }

    #[test]
    fn only_what_poolscope_reads_is_kept_and_any_arg_type_is_taken() {
        let event = parse(&element(
            r#"{"ph":"X","name":"fib\n","pid":1,"tid":"Node 2","ts":1.5,"dur":2,"args":{"input":"x","task":3,"result":{"a":[1]},"error":"e\"","huge":[1,2,{"b":3}],"cpu_time_s":0.25}}"#,
        ))
        .unwrap();
        assert_eq!(event.ph.as_deref(), Some("X"));
        assert_eq!(event.name.as_deref(), Some("fib\n"));
        assert_eq!(event.tid, Some(Id::Text("Node 2".into())));
        let args = event.args.unwrap();
        assert_eq!(args.input.unwrap().as_u64(), None, "a string is no number");
        assert_eq!(args.task.unwrap().as_u64(), Some(3));
        assert_eq!(text(args.result).as_deref(), Some(r#"{"a":[1]}"#));
        assert_eq!(text(args.error).as_deref(), Some("e\""));
        assert_eq!(args.cpu_time_s.unwrap().as_f64(), Some(0.25));
        assert!(!event.empty);
        assert!(parse(&element("{ }")).unwrap().empty);
    }

    #[test]
    fn a_broken_event_is_placed_in_the_file() {
        let problem = parse(&element("{\"ph\": \"X\",, }")).unwrap_err();
        assert_eq!(
            (problem.line, problem.column.as_deref()),
            (Some(10), Some("16"))
        );
        assert!(
            problem.message.starts_with("not valid JSON"),
            "{}",
            problem.message
        );
        let problem = parse(&element("{\"ph\": \"X\",\n\"ts\": \"soon\"}")).unwrap_err();
        assert_eq!(problem.line, Some(11));
        assert!(
            problem.message.starts_with("not a trace event"),
            "{}",
            problem.message
        );
    }
}
