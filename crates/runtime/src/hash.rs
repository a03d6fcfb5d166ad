//! BLAKE2b-256 and the binary Merkle root of a list (transactions root).

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use tensornet_primitives::Hash32;

/// BLAKE2b with a 32-byte output.
pub type Blake2b256 = Blake2b<U32>;

/// BLAKE2b-256 of `data`.
pub fn blake2b_256(data: &[u8]) -> Hash32 {
    let mut h = Blake2b256::new();
    h.update(data);
    Hash32(h.finalize().into())
}

/// Binary Merkle root of `leaves`: zero for an empty list; a node is
/// `BLAKE2b-256(0x01 ‖ left ‖ right)`; an odd node at the end of a level is carried up unchanged.
pub fn merkle_root(leaves: &[Hash32]) -> Hash32 {
    if leaves.is_empty() {
        return Hash32([0; 32]);
    }
    let mut level: Vec<Hash32> = leaves.to_vec();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|c| match c {
                [l, r] => {
                    let mut buf = [0u8; 65];
                    buf[0] = 1;
                    buf[1..33].copy_from_slice(&l.0);
                    buf[33..].copy_from_slice(&r.0);
                    blake2b_256(&buf)
                }
                [x] => *x,
                _ => Hash32([0; 32]),
            })
            .collect();
    }
    level[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_blake2b_256_of_empty() {
        // BLAKE2b-256("") from RFC 7693 implementations.
        assert_eq!(
            blake2b_256(b"").to_hex(),
            "0x0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
    }

    #[test]
    fn merkle_root_shapes() {
        let a = blake2b_256(b"a");
        let b = blake2b_256(b"b");
        assert_eq!(merkle_root(&[]), Hash32([0; 32]));
        assert_eq!(merkle_root(&[a]), a);
        assert_ne!(merkle_root(&[a, b]), merkle_root(&[b, a]));
        assert_ne!(merkle_root(&[a, b, a]), merkle_root(&[a, b]));
    }
}
