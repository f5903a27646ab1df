//! The staking rules, as pure functions: what a registration or a contribution must satisfy, and
//! how a reward is split. Numbers in [`crate::constants`].
//!
//! - A node needs [`MIN_STAKE`] (25 000 SESH) in total to be funded, and so active; until then it
//!   is listed as awaiting contributions (`funded: false`) and is in no swarm.
//! - The operator stakes at registration at least [`MIN_OPERATOR_STAKE`] (25 % of the stake).
//! - At most [`MAX_CONTRIBUTORS`] stakers, operator included, each address once.
//! - A new staker brings at least what is left to fund divided by the free staker slots (rounded
//!   up), so that the node can always be completed (oxen-core's minimum-contribution rule); an
//!   existing staker may top up by any amount. Nobody can stake past [`MIN_STAKE`].
//! - Operator fee: 0 to 10 000 basis points.

use std::collections::BTreeSet;

use crate::amount::Amount;
use crate::constants::{FEE_BASIS, MAX_CONTRIBUTORS, MIN_OPERATOR_STAKE, MIN_STAKE};
use crate::err::{Error, Result};
use crate::ledger::{Contribution, Registration};

/// The least a new staker must bring when `staked` is already in from `stakers` stakers.
pub fn min_contribution(staked: Amount, stakers: usize) -> Amount {
    let left = MIN_STAKE.units().saturating_sub(staked.units());
    let slots = MAX_CONTRIBUTORS.saturating_sub(stakers).max(1) as u64;
    Amount::from_units(left.div_ceil(slots))
}

/// Check a registration against the rules; the caller checks the keys' uniqueness.
pub fn check_registration(reg: &Registration) -> Result<()> {
    let x = reg.ed25519.to_x25519().map_err(|_| Error::BadEd25519)?;
    if x != reg.x25519 {
        return Err(Error::KeysMismatch);
    }
    if reg.storage_port == 0 {
        return Err(Error::BadPort("storage_port"));
    }
    if reg.storage_lmq_port == 0 {
        return Err(Error::BadPort("storage_lmq_port"));
    }
    if u64::from(reg.fee_bps) > FEE_BASIS {
        return Err(Error::BadFee(reg.fee_bps.into()));
    }
    if reg.operator.amount < MIN_OPERATOR_STAKE {
        return Err(Error::OperatorStakeTooLow {
            got: reg.operator.amount,
            needed: MIN_OPERATOR_STAKE,
        });
    }
    within_stake(Amount::ZERO, reg.operator.amount)?;
    let stakers = 1 + reg.contributors.len();
    if stakers > MAX_CONTRIBUTORS {
        return Err(Error::TooManyContributors {
            got: stakers,
            max: MAX_CONTRIBUTORS,
        });
    }
    let mut seen = BTreeSet::from([&reg.operator.address]);
    let mut staked = reg.operator.amount;
    for (i, c) in reg.contributors.iter().enumerate() {
        if !seen.insert(&c.address) {
            return Err(Error::DuplicateContributor(c.address.to_string()));
        }
        staked = add_checked(staked, c, 1 + i)?;
    }
    Ok(())
}

/// Check a contribution to a node awaiting stake that already has `existing` (operator first);
/// returns the stakes after it.
pub fn apply_contribution(
    existing: &[Contribution],
    contribution: &Contribution,
) -> Result<Vec<Contribution>> {
    let mut stakes = existing.to_vec();
    let staked = Amount::from_units(existing.iter().map(|c| c.amount.units()).sum());
    if let Some(old) = stakes
        .iter_mut()
        .find(|c| c.address == contribution.address)
    {
        within_stake(staked, contribution.amount)?;
        old.amount = old
            .amount
            .checked_add(contribution.amount)
            .ok_or_else(|| Error::BadAmount("stake overflows".into()))?;
        return Ok(stakes);
    }
    if existing.len() >= MAX_CONTRIBUTORS {
        return Err(Error::TooManyContributors {
            got: existing.len() + 1,
            max: MAX_CONTRIBUTORS,
        });
    }
    add_checked(staked, contribution, existing.len())?;
    stakes.push(contribution.clone());
    Ok(stakes)
}

/// `staked + c` after checking `c` as the stake of a new staker joining `stakers` others.
fn add_checked(staked: Amount, c: &Contribution, stakers: usize) -> Result<Amount> {
    let needed = min_contribution(staked, stakers);
    if c.amount < needed || c.amount == Amount::ZERO {
        return Err(Error::ContributionTooSmall {
            address: c.address.to_string(),
            got: c.amount,
            needed,
        });
    }
    within_stake(staked, c.amount)
}

/// `staked + more`, refused past [`MIN_STAKE`].
fn within_stake(staked: Amount, more: Amount) -> Result<Amount> {
    let total = staked
        .checked_add(more)
        .ok_or_else(|| Error::BadAmount("stake overflows".into()))?;
    if total > MIN_STAKE {
        return Err(Error::OverStaked {
            total,
            limit: MIN_STAKE,
        });
    }
    Ok(total)
}

/// Whether these stakes fund a node.
pub fn is_funded(stakes: &[Contribution]) -> bool {
    stakes.iter().map(|c| c.amount.units()).sum::<u64>() >= MIN_STAKE.units()
}

/// Split one node's reward: the operator (first stake) takes `fee_bps` / 10 000 of it, the rest
/// goes to every staker in proportion to the stake, rounded down; what rounding leaves goes to
/// the operator. The shares add up to `reward` exactly. Returns one share per stake, in order.
pub fn split_reward(reward: Amount, fee_bps: u16, stakes: &[Contribution]) -> Vec<Amount> {
    let total: u128 = stakes.iter().map(|c| u128::from(c.amount.units())).sum();
    let r = u128::from(reward.units());
    if stakes.is_empty() {
        return Vec::new();
    }
    let fee = r * u128::from(fee_bps.min(10_000)) / u128::from(FEE_BASIS);
    let rest = r - fee;
    let mut shares: Vec<u128> = stakes
        .iter()
        .map(|c| {
            (rest * u128::from(c.amount.units()))
                .checked_div(total)
                .unwrap_or(0)
        })
        .collect();
    let given: u128 = shares.iter().sum();
    if let Some(op) = shares.first_mut() {
        *op += r - given;
    }
    shares
        .into_iter()
        .map(|s| Amount::from_units(u64::try_from(s).unwrap_or(u64::MAX)))
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;
    use sotto_crypto::Identity;

    fn sesh(n: u64) -> Amount {
        Amount::from_units(n * crate::constants::UNITS_PER_SESH)
    }

    fn c(addr: &str, n: u64) -> Contribution {
        Contribution {
            address: addr.parse().unwrap(),
            amount: sesh(n),
        }
    }

    fn reg(operator: u64, others: &[(&str, u64)]) -> Registration {
        let id = Identity::from_ed25519_seed(&[7; 32]);
        Registration {
            ed25519: id.ed25519_public(),
            x25519: id.x25519_public(),
            public_ip: "127.0.0.1".parse().unwrap(),
            storage_port: 22021,
            storage_lmq_port: 22020,
            operator: c("op", operator),
            fee_bps: 500,
            contributors: others.iter().map(|&(a, n)| c(a, n)).collect(),
        }
    }

    #[test]
    fn full_solo_stake_is_fine() {
        check_registration(&reg(25_000, &[])).unwrap();
        check_registration(&reg(6_250, &[("a", 18_750)])).unwrap();
    }

    #[test]
    fn operator_below_a_quarter_is_refused() {
        let e = check_registration(&reg(6_249, &[("a", 18_751)])).unwrap_err();
        assert!(matches!(e, Error::OperatorStakeTooLow { .. }), "{e}");
        assert!(e.to_string().contains("6250"), "{e}");
    }

    #[test]
    fn over_stake_is_refused() {
        let e = check_registration(&reg(25_001, &[])).unwrap_err();
        assert!(matches!(e, Error::OverStaked { .. }), "{e}");
        let e = check_registration(&reg(20_000, &[("a", 5_001)])).unwrap_err();
        assert!(matches!(e, Error::OverStaked { .. }), "{e}");
    }

    #[test]
    fn small_contribution_is_refused() {
        // 18 750 left over 9 slots: at least 2 083.33… SESH.
        let e = check_registration(&reg(6_250, &[("a", 2_000)])).unwrap_err();
        assert!(matches!(e, Error::ContributionTooSmall { .. }), "{e}");
        check_registration(&reg(6_250, &[("a", 2_084)])).unwrap();
    }

    #[test]
    fn too_many_or_duplicate_stakers_are_refused() {
        let many: Vec<(String, u64)> = (0..10).map(|i| (format!("a{i}"), 1_875)).collect();
        let many: Vec<(&str, u64)> = many.iter().map(|(a, n)| (a.as_str(), *n)).collect();
        let e = check_registration(&reg(6_250, &many)).unwrap_err();
        assert!(matches!(e, Error::TooManyContributors { .. }), "{e}");
        let e = check_registration(&reg(6_250, &[("a", 5_000), ("a", 5_000)])).unwrap_err();
        assert!(matches!(e, Error::DuplicateContributor(_)), "{e}");
        let e = check_registration(&reg(6_250, &[("op", 5_000)])).unwrap_err();
        assert!(matches!(e, Error::DuplicateContributor(_)), "{e}");
    }

    #[test]
    fn mismatched_keys_bad_fee_and_ports_are_refused() {
        let mut r = reg(25_000, &[]);
        r.x25519 = Identity::from_ed25519_seed(&[8; 32]).x25519_public();
        assert!(matches!(check_registration(&r), Err(Error::KeysMismatch)));
        let mut r = reg(25_000, &[]);
        r.fee_bps = 10_001;
        assert!(matches!(check_registration(&r), Err(Error::BadFee(10_001))));
        let mut r = reg(25_000, &[]);
        r.storage_port = 0;
        assert!(matches!(check_registration(&r), Err(Error::BadPort(_))));
    }

    #[test]
    fn contributions_fill_then_stop() {
        let stakes = vec![c("op", 6_250)];
        let stakes = apply_contribution(&stakes, &c("a", 10_000)).unwrap();
        assert!(!is_funded(&stakes));
        let stakes = apply_contribution(&stakes, &c("op", 1_000)).unwrap();
        assert_eq!(stakes[0].amount, sesh(7_250));
        let e = apply_contribution(&stakes, &c("b", 7_751)).unwrap_err();
        assert!(matches!(e, Error::OverStaked { .. }), "{e}");
        let stakes = apply_contribution(&stakes, &c("b", 7_750)).unwrap();
        assert!(is_funded(&stakes));
    }

    #[test]
    fn reward_split_example() {
        // 1 SESH, 10 % fee, stakes 3:1 → operator 0.1 + 0.675, other 0.225.
        let shares = split_reward(sesh(1), 1_000, &[c("op", 18_750), c("a", 6_250)]);
        assert_eq!(
            shares,
            [
                Amount::from_units(775_000_000),
                Amount::from_units(225_000_000)
            ]
        );
    }

    proptest! {
        #[test]
        fn reward_shares_add_up(
            reward in 0u64..1_000_000_000_000,
            fee in 0u16..=10_000,
            stakes in proptest::collection::vec(1u64..25_000_000_000_000, 1..10),
        ) {
            let stakes: Vec<Contribution> = stakes
                .iter()
                .enumerate()
                .map(|(i, &u)| Contribution { address: format!("a{i}").parse().unwrap(), amount: Amount::from_units(u) })
                .collect();
            let shares = split_reward(Amount::from_units(reward), fee, &stakes);
            prop_assert_eq!(shares.len(), stakes.len());
            prop_assert_eq!(shares.iter().map(|a| a.units()).sum::<u64>(), reward);
        }
    }
}
