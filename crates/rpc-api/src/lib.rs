//! # tensornet-rpc-api (work in progress)
