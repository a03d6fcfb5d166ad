//! # tensornet-localnet
//!
//! A whole network on one machine, as a library the `tensornet localnet` command and the
//! integration tests drive (issue 7, point 4). [`Localnet::start`] starts a dev node (tempo 20
//! blocks of 250 ms, weights rate limit 5, commit-reveal off unless asked), creates unencrypted
//! dev wallets under the base path (one coldkey per neuron; the owner's coldkey holds no miner
//! hotkey, whose incentive the chain would burn), creates a subnet whose owner hotkey runs the
//! first validator, funds, registers and stakes the neurons (validators with decreasing
//! stakes), and starts the miners (models of clearly different quality) and then the
//! validators as child processes of a given `tensornet` executable on free 127.0.0.1 ports.
//! The handle then follows the epochs ([`Localnet::next_epoch`], [`Localnet::follow`]), reads
//! the table ([`Localnet::rows`]) and the validators' saved states, and stops, kills or restarts
//! a given child ([`Localnet::kill`], [`Localnet::restart`]).
//!
//! What it owns:
//! - [`children`]: the child processes ([`Children`]), all stopped when the handle is dropped
//!   (also on a panic or a cancelled future);
//! - [`net`]: [`Localnet`], its [`LocalnetConfig`] and the per-epoch [`Event`]s;
//! - [`report`]: the table's [`Row`]s, the validators' [`measured`] accuracy, the [`Ledger`] and
//!   the final [`Summary`] (the `--json` document).
//!
//! Invariants: every child is started from the configured executable and stopped when the
//! [`Localnet`] is dropped; the ledger counts epochs from the first one that paid a miner, and
//! [`Ledger::balanced`] checks minted = distributed + owner cut + burned exactly (rao).

pub mod children;
pub mod net;
pub mod report;

pub use children::{Children, Exited, STOP_GRACE};
pub use net::{
    EpochReport, Event, Localnet, LocalnetConfig, NeuronInfo, Role, MINER_SYNC_SECS, PRESETS,
};
pub use report::{measured, Ledger, Row, Summary};

use thiserror::Error;

/// Why a network could not be started or followed.
#[derive(Debug, Error)]
pub enum LocalnetError {
    /// A file or process operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A request to the node failed.
    #[error("{what}: {source}")]
    Client {
        /// What was being done.
        what: String,
        /// The cause.
        source: tensornet_client::ClientError,
    },
    /// A wallet could not be created or read.
    #[error("{what}: {source}")]
    Keys {
        /// What was being done.
        what: String,
        /// The cause.
        source: tensornet_keys::KeyError,
    },
    /// A transaction was included but failed.
    #[error("{what}: {reason}")]
    Rejected {
        /// What was being done.
        what: String,
        /// The runtime's error.
        reason: String,
    },
    /// The network did not get where it should (a child exited, a wait timed out, …); the
    /// message says where to look.
    #[error("{0}")]
    Failed(String),
    /// No child or neuron of that name.
    #[error("no neuron or child named {0:?} in this network")]
    UnknownNeuron(String),
}
