//! `tensornet wallet` (not implemented yet).

use std::process::ExitCode;

/// Arguments of `tensornet wallet`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`tensornet wallet` is not implemented yet")
}
