//! The synapse data model (spec §3) and the body hash (spec §5).

use crate::pyrepr::{struct_field_strs, PyReprError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha3::{Digest, Sha3_256};

/// SDK version integer this implementation advertises (10.5.0, spec §10).
pub const VERSION_AS_INT: u64 = 10_005_000;

/// First version integer of the time-window nonce protocol (7.2.0).
pub const NEW_NONCE_PROTOCOL_VERSION: u64 = 7_002_000;

/// Body hash of a synapse without hash fields: SHA3-256 of the empty string.
pub const EMPTY_BODY_HASH: &str =
    "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";

/// One end of a call (`dendrite` or `axon` object), in the reference's field order (§3.1).
/// Every field is optional; a `None` field produces no header.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TerminalInfo {
    /// HTTP-like result code.
    pub status_code: Option<i64>,
    /// Human text for the code.
    pub status_message: Option<String>,
    /// Seconds spent on that side.
    pub process_time: Option<f64>,
    /// IP of that terminal.
    pub ip: Option<String>,
    /// Port of that terminal.
    pub port: Option<i64>,
    /// SDK version integer.
    pub version: Option<i64>,
    /// Wall-clock nanoseconds since the Unix epoch when signed.
    pub nonce: Option<u64>,
    /// Instance id (any string).
    pub uuid: Option<String>,
    /// SS58 address of that side's hotkey.
    pub hotkey: Option<String>,
    /// `0x` + 128 hex characters.
    pub signature: Option<String>,
}

/// A typed request/response message. The implementing struct holds the subclass fields only
/// (the base fields live in [`Envelope`]), in the Python class's declaration order.
pub trait Synapse: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// Class name = route (`POST /<NAME>`), case-sensitive.
    const NAME: &'static str;
    /// Field names the body hash covers, in order.
    const REQUIRED_HASH_FIELDS: &'static [&'static str];
    /// Fields without a default in the Python class, each with the JSON text of its type's
    /// default value (`""`, `0`, `[]`, …): sent as `bt_header_input_obj_<field>` placeholders.
    const REQUIRED_FIELDS: &'static [(&'static str, &'static str)];

    /// The body hash over this message's hash fields (spec §5).
    fn body_hash(&self) -> Result<String, PyReprError> {
        body_hash(self, Self::REQUIRED_HASH_FIELDS)
    }
}

/// Body hash: SHA3-256 over the concatenated hex SHA3-256 digests of each hash field rendered with
/// Python `str()`.
pub fn body_hash<T: Serialize + ?Sized>(value: &T, fields: &[&str]) -> Result<String, PyReprError> {
    let strs = struct_field_strs(value, fields)?;
    Ok(body_hash_of_strs(&strs))
}

/// Body hash of already rendered field texts.
pub fn body_hash_of_strs<S: AsRef<str>>(strs: &[S]) -> String {
    let mut outer = Sha3_256::new();
    for s in strs {
        let digest = Sha3_256::digest(s.as_ref().as_bytes());
        outer.update(hex::encode(digest).as_bytes());
    }
    hex::encode(outer.finalize())
}

fn default_timeout() -> f64 {
    12.0
}

/// The full wire body: the base fields of §3.2 followed by the synapse's own fields.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope<S> {
    /// Class name (forced to `S::NAME` by the receiver).
    #[serde(default)]
    pub name: String,
    /// Call timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Informational size estimate.
    #[serde(default)]
    pub total_size: u64,
    /// Informational header size.
    #[serde(default)]
    pub header_size: u64,
    /// The caller's terminal.
    #[serde(default)]
    pub dendrite: TerminalInfo,
    /// The server's terminal.
    #[serde(default)]
    pub axon: TerminalInfo,
    /// Always `""` in bodies (the hash travels in a header).
    #[serde(default)]
    pub computed_body_hash: String,
    /// The synapse's own fields.
    #[serde(flatten)]
    pub body: S,
}

impl<S: Synapse> Envelope<S> {
    /// A fresh envelope around `body` with the given timeout.
    pub fn new(body: S, timeout: f64) -> Self {
        Envelope {
            name: S::NAME.to_string(),
            timeout,
            total_size: 0,
            header_size: 0,
            dendrite: TerminalInfo::default(),
            axon: TerminalInfo::default(),
            computed_body_hash: String::new(),
            body,
        }
    }
}

/// `Echo`: the axon answers `response = text`. Hash field: `text`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Echo {
    /// Text to echo (required).
    pub text: String,
    /// The echoed text.
    #[serde(default)]
    pub response: Option<String>,
}

impl Synapse for Echo {
    const NAME: &'static str = "Echo";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["text"];
    const REQUIRED_FIELDS: &'static [(&'static str, &'static str)] = &[("text", "\"\"")];
}

/// Number of inputs of [`Classify`].
pub const CLASSIFY_INPUTS: usize = 64;
/// Number of outputs of [`Classify`].
pub const CLASSIFY_OUTPUTS: usize = 10;

/// `Classify`: 64 pixels in, 10 logits out. Hash field: `pixels`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Classify {
    /// Input values (64 expected).
    pub pixels: Vec<f64>,
    /// Output values (10).
    #[serde(default)]
    pub logits: Option<Vec<f64>>,
}

impl Synapse for Classify {
    const NAME: &'static str = "Classify";
    const REQUIRED_HASH_FIELDS: &'static [&'static str] = &["pixels"];
    const REQUIRED_FIELDS: &'static [(&'static str, &'static str)] = &[("pixels", "[]")];
}

/// The echo miner's fixed linear model: `W[i][j] = ((31i + 17j) mod 23 − 11) / 11`, so
/// `logits[i] = Σ_j W[i][j] × pixels[j]` (missing pixels count as 0, extra ones are ignored).
pub fn classify_logits(pixels: &[f64]) -> Vec<f64> {
    (0..CLASSIFY_OUTPUTS)
        .map(|i| {
            pixels
                .iter()
                .take(CLASSIFY_INPUTS)
                .enumerate()
                .map(|(j, p)| {
                    let w = (((31 * i + 17 * j) % 23) as f64 - 11.0) / 11.0;
                    w * p
                })
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Dummy {
        dummy_input: Option<i64>,
        dummy_output: Option<i64>,
    }

    #[derive(Serialize)]
    struct Words {
        words: Vec<String>,
    }

    #[test]
    fn spec_vectors() {
        let d = Dummy {
            dummy_input: Some(21),
            dummy_output: None,
        };
        assert_eq!(body_hash(&d, &[]).unwrap(), EMPTY_BODY_HASH);
        assert_eq!(
            body_hash(&d, &["dummy_input"]).unwrap(),
            "92458924edc5f6c19fb90d1d8cec7ec179fd1a4dc293e2d97f8578f6f13ba970"
        );
        assert_eq!(
            body_hash(&d, &["dummy_input", "dummy_output"]).unwrap(),
            "56b1824a108a680167d1944e1f529ef0afe30875d28b3d284e4d34be40af123c"
        );
        let z = Dummy {
            dummy_input: Some(0),
            dummy_output: None,
        };
        assert_eq!(
            body_hash(&z, &["dummy_input"]).unwrap(),
            "a68efd02bf8190c171a54f9de439df1e213eecc103415619956235432088c17a"
        );
        let w = Words {
            words: vec!["hello".into(), "world".into()],
        };
        assert_eq!(
            body_hash(&w, &["words"]).unwrap(),
            "9719d0fc0c0f3471e4e6f6ca3ef237d9865345befd206d24dca0d6e0457502af"
        );
    }

    #[test]
    fn echo_capture_hash() {
        let e = Echo {
            text: "hello bittensor".into(),
            response: None,
        };
        assert_eq!(
            e.body_hash().unwrap(),
            "d828187f19182c5a58772c453db3c232a5b1018f3f41feadb5b7d58ba68901b2"
        );
    }

    #[test]
    fn envelope_field_order_and_roundtrip() {
        let env = Envelope::new(
            Echo {
                text: "x".into(),
                response: None,
            },
            12.0,
        );
        let json = serde_json::to_string(&env).unwrap();
        assert!(
            json.starts_with("{\"name\":\"Echo\",\"timeout\":12.0,"),
            "{json}"
        );
        assert!(json.ends_with("\"computed_body_hash\":\"\",\"text\":\"x\",\"response\":null}"));
        let back: Envelope<Echo> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.body, env.body);
    }

    #[test]
    fn classify_model() {
        let mut px = vec![0.0; 64];
        px[0] = 1.0;
        let l = classify_logits(&px);
        assert_eq!(l.len(), 10);
        // W[i][0] = ((31 i) mod 23 - 11) / 11
        for (i, v) in l.iter().enumerate() {
            assert_eq!(*v, (((31 * i) % 23) as f64 - 11.0) / 11.0);
        }
    }
}
