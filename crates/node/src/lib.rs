//! # tensornet-node (work in progress)
