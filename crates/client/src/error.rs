//! The client's error type.

use tensornet_primitives::Hash32;

/// Why a client operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The node could not be reached (connection refused, timeout, closed connection).
    #[error("cannot reach the node at {url}: {reason} (is `tensornet node run` running? pass --rpc URL)")]
    Unreachable {
        /// The RPC URL.
        url: String,
        /// Underlying error.
        reason: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("node error {code}: {message}")]
    Rpc {
        /// JSON-RPC error code.
        code: i32,
        /// Message.
        message: String,
    },
    /// The node answered something this client does not understand.
    #[error("unexpected answer from the node: {0}")]
    Protocol(String),
    /// The transaction was rejected by the node (never included).
    #[error("transaction {hash} rejected: {reason}")]
    Rejected {
        /// Transaction hash.
        hash: Hash32,
        /// Reason given by the node.
        reason: String,
    },
    /// The transaction was not included within the timeout (it may still be).
    #[error("transaction {hash} not included within {secs} s (it may still be; check `tensornet chain tx {hash}`)")]
    Timeout {
        /// Transaction hash.
        hash: Hash32,
        /// Seconds waited.
        secs: u64,
    },
    /// Bad input from the caller.
    #[error("{0}")]
    InvalidInput(String),
}
