//! # tensornet-subnet (work in progress)
