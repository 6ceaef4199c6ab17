//! Low-S ECDSA signatures: of the two valid `s` values of a P-256 signature
//! (`s` and `n - s`), only the one not above `n / 2` is issued or accepted, so
//! every token has exactly one valid string (no second spelling of the same
//! claims). Plain big-endian arithmetic on 32-byte scalars.

/// The order `n` of the P-256 group, big-endian.
const ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];
/// `floor(n / 2)`, big-endian: `s` above this is high.
const HALF_ORDER: [u8; 32] = [
    0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8,
];
const SCALAR_LEN: usize = 32;

/// The `s` half of a fixed-size `r || s` signature; `None` for another length.
fn s_of(signature: &[u8]) -> Option<&[u8]> {
    (signature.len() == 2 * SCALAR_LEN).then(|| &signature[SCALAR_LEN..])
}

/// Whether a 64-byte `r || s` signature has a high `s` (`s > n / 2`). Big-endian
/// byte strings of equal length compare as numbers.
pub(super) fn is_high(signature: &[u8]) -> bool {
    s_of(signature).is_some_and(|s| s > HALF_ORDER.as_slice())
}

/// Replaces a high `s` by `n - s` in a 64-byte `r || s` signature (the same
/// signature in its low form); a low one is left as it is.
pub(super) fn normalize(signature: &mut [u8]) {
    if !is_high(signature) {
        return;
    }
    let s = &mut signature[SCALAR_LEN..];
    let mut borrow = 0u16;
    for i in (0..SCALAR_LEN).rev() {
        let minuend = u16::from(ORDER[i]);
        let subtrahend = u16::from(s[i]) + borrow;
        let (digit, next_borrow) = if minuend >= subtrahend {
            (minuend - subtrahend, 0)
        } else {
            (minuend + 0x100 - subtrahend, 1)
        };
        s[i] = u8::try_from(digit).unwrap_or(0);
        borrow = next_borrow;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn signature(s: [u8; 32]) -> Vec<u8> {
        let mut sig = vec![0x11; 32];
        sig.extend_from_slice(&s);
        sig
    }

    fn plus_one(mut x: [u8; 32]) -> [u8; 32] {
        for b in x.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
        x
    }

    #[test]
    fn the_boundary_is_half_the_order() {
        let mut one = [0u8; 32];
        one[31] = 1;
        let mut n_minus_one = ORDER;
        n_minus_one[31] -= 1;
        #[rustfmt::skip]
        let rows: [([u8; 32], bool); 5] = [
            (one, false),
            (HALF_ORDER, false),
            (plus_one(HALF_ORDER), true),
            (n_minus_one, true),
            ([0xFF; 32], true),
        ];
        for (s, high) in rows {
            assert_eq!(is_high(&signature(s)), high, "{s:02x?}");
        }
        assert!(!is_high(&[0xFF; 63]), "another length is not judged");
    }

    #[test]
    fn normalize_maps_s_to_n_minus_s_and_keeps_r() {
        let mut n_minus_one = ORDER;
        n_minus_one[31] -= 1;
        let mut sig = signature(n_minus_one);
        normalize(&mut sig);
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(sig, signature(one));
        // n - (floor(n/2) + 1) = floor(n/2), n being odd: the boundary maps onto itself.
        let mut sig = signature(plus_one(HALF_ORDER));
        normalize(&mut sig);
        assert_eq!(sig, signature(HALF_ORDER));
        let mut low = signature(HALF_ORDER);
        normalize(&mut low);
        assert_eq!(low, signature(HALF_ORDER));
    }
}
