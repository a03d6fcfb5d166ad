//! The header codec (spec §4.2, §8.1): `bt_header_dendrite_*`, `bt_header_axon_*`,
//! `bt_header_input_obj_*`, `timeout`, `computed_body_hash`. Header names are emitted lower-case.

use crate::pyrepr::py_float_repr;
use crate::synapse::TerminalInfo;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::Engine as _;

/// A header could not be parsed (the axon answers 400).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("bad header `{name}`: {reason}")]
pub struct HeaderError {
    /// Header name.
    pub name: String,
    /// What was wrong.
    pub reason: String,
}

/// The header-side view of a request: what the hooks and the verifier see before the body is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestHeaders {
    /// The `name` header.
    pub name: Option<String>,
    /// The `timeout` header (seconds).
    pub timeout: Option<f64>,
    /// The caller's terminal from `bt_header_dendrite_*`.
    pub dendrite: TerminalInfo,
    /// The target terminal from `bt_header_axon_*`.
    pub axon: TerminalInfo,
    /// The `computed_body_hash` header.
    pub computed_body_hash: Option<String>,
}

fn text<'a>(map: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, HeaderError> {
    match map.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| HeaderError {
            name: name.to_string(),
            reason: "not visible ASCII".to_string(),
        }),
    }
}

fn parse_num<T: std::str::FromStr>(map: &HeaderMap, name: &str) -> Result<Option<T>, HeaderError> {
    match text(map, name)? {
        None => Ok(None),
        Some(s) => s.trim().parse::<T>().map(Some).map_err(|_| HeaderError {
            name: name.to_string(),
            reason: format!("`{s}` is not a number"),
        }),
    }
}

/// Parses an integer the way Python's lenient model parsing accepts it (`"12"` or `"12.0"`).
fn parse_int(map: &HeaderMap, name: &str) -> Result<Option<i64>, HeaderError> {
    match text(map, name)? {
        None => Ok(None),
        Some(s) => {
            let s = s.trim();
            if let Ok(v) = s.parse::<i64>() {
                return Ok(Some(v));
            }
            match s.parse::<f64>() {
                Ok(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => Ok(Some(f as i64)),
                _ => Err(HeaderError {
                    name: name.to_string(),
                    reason: format!("`{s}` is not an integer"),
                }),
            }
        }
    }
}

fn parse_terminal(map: &HeaderMap, prefix: &str) -> Result<TerminalInfo, HeaderError> {
    let h = |f: &str| format!("{prefix}{f}");
    let owned = |f: &str| -> Result<Option<String>, HeaderError> {
        Ok(text(map, &h(f))?.map(str::to_string))
    };
    let nonce = match text(map, &h("nonce"))? {
        None => None,
        Some(s) => Some(s.trim().parse::<u64>().map_err(|_| HeaderError {
            name: h("nonce"),
            reason: format!("`{s}` is not a non-negative integer"),
        })?),
    };
    Ok(TerminalInfo {
        status_code: parse_int(map, &h("status_code"))?,
        status_message: owned("status_message")?,
        process_time: parse_num(map, &h("process_time"))?,
        ip: owned("ip")?,
        port: parse_int(map, &h("port"))?,
        version: parse_int(map, &h("version"))?,
        nonce,
        uuid: owned("uuid")?,
        hotkey: owned("hotkey")?,
        signature: owned("signature")?,
    })
}

impl RequestHeaders {
    /// Parses the protocol headers; unknown headers are ignored.
    pub fn parse(map: &HeaderMap) -> Result<Self, HeaderError> {
        let timeout: Option<f64> = parse_num(map, "timeout")?;
        if let Some(t) = timeout {
            if !t.is_finite() || t < 0.0 {
                return Err(HeaderError {
                    name: "timeout".into(),
                    reason: format!("{t} is not a non-negative number of seconds"),
                });
            }
        }
        Ok(RequestHeaders {
            name: text(map, "name")?.map(str::to_string),
            timeout,
            dendrite: parse_terminal(map, "bt_header_dendrite_")?,
            axon: parse_terminal(map, "bt_header_axon_")?,
            computed_body_hash: text(map, "computed_body_hash")?.map(str::to_string),
        })
    }
}

fn push(map: &mut HeaderMap, name: &str, value: &str) {
    // Header names here are fixed ASCII; values are sanitized (non-visible characters dropped),
    // so neither conversion can fail on a well-formed terminal.
    let value = match HeaderValue::from_str(value) {
        Ok(v) => v,
        Err(_) => {
            let clean: String = value
                .chars()
                .filter(|c| c.is_ascii() && !c.is_ascii_control())
                .collect();
            match HeaderValue::from_str(&clean) {
                Ok(v) => v,
                Err(_) => return,
            }
        }
    };
    if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
        map.append(n, value);
    }
}

/// Appends the non-null fields of `t` as `<prefix><field>` headers, in the reference order.
pub fn push_terminal(map: &mut HeaderMap, prefix: &str, t: &TerminalInfo) {
    let h = |f: &str| format!("{prefix}{f}");
    if let Some(v) = t.status_code {
        push(map, &h("status_code"), &v.to_string());
    }
    if let Some(v) = &t.status_message {
        push(map, &h("status_message"), v);
    }
    if let Some(v) = t.process_time {
        push(map, &h("process_time"), &py_float_repr(v));
    }
    if let Some(v) = &t.ip {
        push(map, &h("ip"), v);
    }
    if let Some(v) = t.port {
        push(map, &h("port"), &v.to_string());
    }
    if let Some(v) = t.version {
        push(map, &h("version"), &v.to_string());
    }
    if let Some(v) = t.nonce {
        push(map, &h("nonce"), &v.to_string());
    }
    if let Some(v) = &t.uuid {
        push(map, &h("uuid"), v);
    }
    if let Some(v) = &t.hotkey {
        push(map, &h("hotkey"), v);
    }
    if let Some(v) = &t.signature {
        push(map, &h("signature"), v);
    }
}

/// Everything that goes into the protocol headers of a request or response.
pub struct HeaderParts<'a> {
    /// Synapse name.
    pub name: &'a str,
    /// Timeout in seconds.
    pub timeout: f64,
    /// The axon terminal.
    pub axon: &'a TerminalInfo,
    /// The dendrite terminal.
    pub dendrite: &'a TerminalInfo,
    /// `(field, default JSON text)` of the synapse's required fields.
    pub required_fields: &'a [(&'a str, &'a str)],
    /// `header_size` value.
    pub header_size: u64,
    /// `total_size` value.
    pub total_size: u64,
    /// `computed_body_hash` value.
    pub computed_body_hash: &'a str,
}

/// Builds the protocol headers in the reference order (spec §4.2 / §8.1).
pub fn build_headers(p: &HeaderParts<'_>) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(24);
    push(&mut map, "name", p.name);
    push(&mut map, "timeout", &py_float_repr(p.timeout));
    push_terminal(&mut map, "bt_header_axon_", p.axon);
    push_terminal(&mut map, "bt_header_dendrite_", p.dendrite);
    for (field, default_json) in p.required_fields {
        let b64 = base64::engine::general_purpose::STANDARD.encode(default_json.as_bytes());
        push(&mut map, &format!("bt_header_input_obj_{field}"), &b64);
    }
    push(&mut map, "header_size", &p.header_size.to_string());
    push(&mut map, "total_size", &p.total_size.to_string());
    push(&mut map, "computed_body_hash", p.computed_body_hash);
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_placeholders() {
        let d = TerminalInfo {
            ip: Some("127.0.0.2".into()),
            version: Some(10005000),
            nonce: Some(1795685747688095486),
            uuid: Some("u".into()),
            hotkey: Some("5EJG".into()),
            signature: Some("0xab".into()),
            ..Default::default()
        };
        let a = TerminalInfo {
            ip: Some("127.0.0.1".into()),
            port: Some(8091),
            hotkey: Some("5FZF".into()),
            ..Default::default()
        };
        let map = build_headers(&HeaderParts {
            name: "Echo",
            timeout: 12.0,
            axon: &a,
            dendrite: &d,
            required_fields: &[("text", "\"\""), ("pixels", "[]")],
            header_size: 0,
            total_size: 0,
            computed_body_hash: "abc",
        });
        assert_eq!(map["timeout"], "12.0");
        assert_eq!(map["bt_header_input_obj_text"], "IiI=");
        assert_eq!(map["bt_header_input_obj_pixels"], "W10=");
        let parsed = RequestHeaders::parse(&map).unwrap();
        assert_eq!(parsed.dendrite, d);
        assert_eq!(parsed.axon, a);
        assert_eq!(parsed.timeout, Some(12.0));
        assert_eq!(parsed.computed_body_hash.as_deref(), Some("abc"));
        let names: Vec<&str> = map.keys().map(|k| k.as_str()).collect();
        assert_eq!(names[0], "name");
        assert_eq!(names[2], "bt_header_axon_ip");
        assert_eq!(*names.last().unwrap(), "computed_body_hash");
    }

    #[test]
    fn bad_numbers_are_errors() {
        let mut map = HeaderMap::new();
        map.insert("bt_header_dendrite_nonce", HeaderValue::from_static("abc"));
        let e = RequestHeaders::parse(&map).unwrap_err();
        assert_eq!(e.name, "bt_header_dendrite_nonce");
        let mut map = HeaderMap::new();
        map.insert("timeout", HeaderValue::from_static("-1"));
        assert!(RequestHeaders::parse(&map).is_err());
        let mut map = HeaderMap::new();
        map.insert(
            "bt_header_dendrite_version",
            HeaderValue::from_static("7002000.0"),
        );
        assert_eq!(
            RequestHeaders::parse(&map).unwrap().dendrite.version,
            Some(7002000)
        );
    }
}
