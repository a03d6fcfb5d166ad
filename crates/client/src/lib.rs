//! # tensornet-client (work in progress)
