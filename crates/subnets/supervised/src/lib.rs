//! # tensornet-subnet-supervised (work in progress)
