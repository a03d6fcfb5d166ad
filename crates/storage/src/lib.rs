//! # tensornet-storage (work in progress)
