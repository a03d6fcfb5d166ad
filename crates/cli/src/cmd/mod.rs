//! One module per command group; each exposes `Args` (clap) and `run(Args) -> Result<ExitCode>`.

pub mod axon;
pub mod axon_set;
pub mod chain;
pub mod daemon;
pub mod delegate;
pub mod epoch;
pub mod localnet;
pub mod metagraph;
pub mod miner;
pub mod node;
pub mod simulate;
pub mod stake;
pub mod subnet;
pub mod validator;
pub mod wallet;
pub mod wallet_chain;
pub mod weights;
