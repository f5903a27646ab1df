//! Test helpers shared by the unit tests.

#![allow(clippy::unwrap_used)]

use sotto_crypto::Identity;

use crate::amount::Amount;
use crate::constants::UNITS_PER_SESH;
use crate::ledger::{Contribution, Registration};

/// Unix time the unit tests run at.
pub(crate) const NOW: u64 = 1_700_000_000;

/// Whole SESH.
pub(crate) fn sesh(n: u64) -> Amount {
    Amount::from_units(n * UNITS_PER_SESH)
}

/// Node `i`'s identity.
pub(crate) fn identity(i: u8) -> Identity {
    Identity::from_ed25519_seed(&[i; 32])
}

/// Node `i` on 127.0.0.1, operator `op<i>` staking `stake` SESH, 10 % fee, no other stakers.
pub(crate) fn registration(i: u8, stake: u64) -> Registration {
    let id = identity(i);
    Registration {
        ed25519: id.ed25519_public(),
        x25519: id.x25519_public(),
        public_ip: "127.0.0.1".parse().unwrap(),
        storage_port: 20000 + u16::from(i),
        storage_lmq_port: 30000 + u16::from(i),
        operator: Contribution {
            address: format!("op{i}").parse().unwrap(),
            amount: sesh(stake),
        },
        fee_bps: 1000,
        contributors: Vec::new(),
    }
}
