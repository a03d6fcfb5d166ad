//! # tensornet-sim
//!
//! Scenarios, adversary behaviours and plots, all over the `tensornet-yuma` epoch.
