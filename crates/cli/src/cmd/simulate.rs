//! `tensornet simulate` (not implemented yet).

use std::process::ExitCode;

/// Arguments of `tensornet simulate`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`tensornet simulate` is not implemented yet")
}
