//! `tensornet axon` (not implemented yet).

use std::process::ExitCode;

/// Arguments of `tensornet axon`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`tensornet axon` is not implemented yet")
}
