//! [`SwarmSizes`]: the three sizes the assignment reads, mainnet's or a test network's.

use serde::{Deserialize, Serialize};

use crate::constants::{IDEAL_SWARM_SIZE, MAX_SWARM_SIZE, MIN_SWARM_SIZE};
use crate::err::{Error, Result};

/// Minimum, ideal and maximum swarm size.
///
/// Upstream has six numbers (`constants`); two of them are the minimum (`MIN_SWARM_SIZE` and
/// `EXCESS_BASE`, both 5) and two the ideal (`IDEAL_SWARM_SIZE` and `NEW_SWARM_SIZE`, both 7).
/// Here each role reads one field, consistently:
///
/// | upstream role | read from |
/// |---|---|
/// | `MIN_SWARM_SIZE`, `EXCESS_BASE` | [`min`](Self::min) |
/// | `IDEAL_SWARM_SIZE`, `NEW_SWARM_SIZE` | [`ideal`](Self::ideal) |
/// | `IDEAL_SWARM_MARGIN` | [`margin`](Self::margin) = ideal − min (mainnet: 7 − 5 = 2) |
/// | `MAX_SWARM_SIZE` | [`max`](Self::max): advisory only, as upstream |
///
/// With [`SwarmSizes::MAINNET`] the assignment is exactly oxend's rules. Serde form:
/// `{"min": 5, "ideal": 7, "max": 10}`, checked when read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawSizes")]
pub struct SwarmSizes {
    min: usize,
    ideal: usize,
    max: usize,
}

/// Unchecked serde form of [`SwarmSizes`].
#[derive(Deserialize)]
struct RawSizes {
    min: usize,
    ideal: usize,
    max: usize,
}

impl TryFrom<RawSizes> for SwarmSizes {
    type Error = Error;
    fn try_from(raw: RawSizes) -> Result<Self> {
        Self::new(raw.min, raw.ideal, raw.max)
    }
}

impl Default for SwarmSizes {
    fn default() -> Self {
        Self::MAINNET
    }
}

impl SwarmSizes {
    /// The Session network's sizes: 5, 7, 10 (`service_node_rules.h`).
    pub const MAINNET: Self = Self {
        min: MIN_SWARM_SIZE,
        ideal: IDEAL_SWARM_SIZE,
        max: MAX_SWARM_SIZE,
    };

    /// Sizes for a small loopback test network: 3, 4, 6 (ten nodes form two swarms of five).
    pub const DEVNET: Self = Self {
        min: 3,
        ideal: 4,
        max: 6,
    };

    /// Checked sizes: `1 <= min <= ideal <= max`.
    pub fn new(min: usize, ideal: usize, max: usize) -> Result<Self> {
        if min == 0 || min > ideal || ideal > max {
            return Err(Error::BadSizes { min, ideal, max });
        }
        Ok(Self { min, ideal, max })
    }

    /// Fewest members of a swarm (upstream `MIN_SWARM_SIZE` and `EXCESS_BASE`).
    pub fn min(&self) -> usize {
        self.min
    }

    /// Size of a new swarm (upstream `IDEAL_SWARM_SIZE` and `NEW_SWARM_SIZE`).
    pub fn ideal(&self) -> usize {
        self.ideal
    }

    /// Intended largest swarm (upstream `MAX_SWARM_SIZE`); not enforced.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Excess each existing swarm keeps before a new swarm is made: ideal − min (upstream
    /// `IDEAL_SWARM_MARGIN`, 2 on mainnet).
    pub fn margin(&self) -> usize {
        self.ideal - self.min
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::constants::{EXCESS_BASE, IDEAL_SWARM_MARGIN, NEW_SWARM_SIZE};

    #[test]
    fn mainnet_matches_upstream_roles() {
        let s = SwarmSizes::MAINNET;
        assert_eq!(s.min(), EXCESS_BASE);
        assert_eq!(s.ideal(), NEW_SWARM_SIZE);
        assert_eq!(s.margin(), IDEAL_SWARM_MARGIN);
        assert_eq!(SwarmSizes::default(), s);
    }

    #[test]
    fn checks_order() {
        assert!(SwarmSizes::new(0, 1, 1).is_err());
        assert!(SwarmSizes::new(4, 3, 6).is_err());
        assert!(SwarmSizes::new(3, 4, 3).is_err());
        assert_eq!(SwarmSizes::new(3, 4, 6).unwrap(), SwarmSizes::DEVNET);
    }

    #[test]
    fn serde_checks() {
        let s: SwarmSizes = serde_json::from_str(r#"{"min":3,"ideal":4,"max":6}"#).unwrap();
        assert_eq!(s, SwarmSizes::DEVNET);
        assert!(serde_json::from_str::<SwarmSizes>(r#"{"min":5,"ideal":4,"max":6}"#).is_err());
        assert_eq!(
            serde_json::to_string(&SwarmSizes::MAINNET).unwrap(),
            r#"{"min":5,"ideal":7,"max":10}"#
        );
    }
}
