//! One module per command group; each exposes `Args` (clap) and `run(Args) -> Result<ExitCode>`.

pub mod axon;
pub mod epoch;
pub mod simulate;
pub mod wallet;
