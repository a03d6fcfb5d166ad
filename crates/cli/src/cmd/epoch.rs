//! `tensornet epoch` (not implemented yet).

use std::process::ExitCode;

/// Arguments of `tensornet epoch`.
#[derive(clap::Args, Debug)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`tensornet epoch` is not implemented yet")
}
