//! [`SqliteLedger`]: the [`Ledger`] on a SQLite file (WAL), the only module with SQL.
//!
//! The `sotto-registry` server and its CLI open the same file: every write is one immediate
//! transaction that also records the new block and recomputes swarms, so they never interleave.

mod migrations;
mod rows;

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use sotto_crypto::{Ed25519PublicKey, X25519PublicKey};
use sotto_swarm::{SwarmSizes, UNASSIGNED_SWARM_ID};

use crate::amount::Amount;
use crate::chain::{assign_swarms, next_block_hash};
use crate::err::{Error, Result};
use crate::ledger::{
    Address, Block, Contribution, Ledger, NodeRecord, NodeStatus, Registration, ReportOutcome,
    RewardBalance, RewardRules, Snapshot, TickOutcome, VoteRules,
};
use crate::report::PeerReport;
use crate::rules;
use rows::{
    active_nodes, amount_from_sql, amount_to_sql, i64_of, key_from_sql, read_address_amounts,
    swarm_from_sql, swarm_to_sql, u64_from_sql,
};

/// How long a writer waits for another (CLI or server) to finish.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The ledger in a SQLite database.
#[derive(Debug)]
pub struct SqliteLedger {
    conn: Connection,
}

impl SqliteLedger {
    /// Open (creating if needed) the ledger database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::setup(Connection::open(path)?)
    }

    /// A private in-memory ledger, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        migrations::apply(&mut conn)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let exists: bool = tx
            .query_row("SELECT 1 FROM chain WHERE id = 0", [], |_| Ok(()))
            .optional()?
            .is_some();
        if !exists {
            let mut genesis = [0u8; 32];
            OsRng.fill_bytes(&mut genesis);
            let s = SwarmSizes::MAINNET;
            tx.execute(
                "INSERT INTO chain (id, height, block_hash, swarm_min, swarm_ideal, swarm_max)
                 VALUES (0, 0, ?1, ?2, ?3, ?4)",
                params![
                    genesis.as_slice(),
                    i64_of(s.min() as u64),
                    i64_of(s.ideal() as u64),
                    i64_of(s.max() as u64)
                ],
            )?;
            tx.execute(
                "INSERT INTO blocks (height, hash, time, reason) VALUES (0, ?1, 0, 'genesis')",
                params![genesis.as_slice()],
            )?;
        }
        tx.commit()?;
        Ok(Self { conn })
    }

    fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

/// The head block and swarm sizes.
fn read_head(conn: &Connection) -> Result<(Block, SwarmSizes)> {
    let (height, hash, min, ideal, max): (i64, Vec<u8>, i64, i64, i64) = conn.query_row(
        "SELECT height, block_hash, swarm_min, swarm_ideal, swarm_max FROM chain WHERE id = 0",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let size = |v: i64| usize::try_from(v).map_err(|_| Error::Corrupt(format!("swarm size {v}")));
    Ok((
        Block {
            height: u64_from_sql(height, "height")?,
            hash: key_from_sql(hash)?,
        },
        SwarmSizes::new(size(min)?, size(ideal)?, size(max)?)?,
    ))
}

/// Record a change: the next block, with swarms recomputed from the active set.
fn new_block(tx: &Transaction<'_>, reason: &str, now: u64) -> Result<Block> {
    let (head, sizes) = read_head(tx)?;
    let height = head.height + 1;
    let hash = next_block_hash(&head.hash, height);

    let active: Vec<(Ed25519PublicKey, u64)> = active_nodes(tx, "swarm_id")?
        .into_iter()
        .map(|(key, swarm)| (key, swarm_from_sql(swarm)))
        .collect();
    let assigned = assign_swarms(&active, &hash, &sizes);
    {
        let mut update = tx.prepare(
            "UPDATE nodes SET swarm_id = ?2 WHERE pubkey_ed25519 = ?1 AND swarm_id != ?2",
        )?;
        for (key, _) in &active {
            let swarm = assigned.get(key).copied().unwrap_or(UNASSIGNED_SWARM_ID);
            update.execute(params![key.as_bytes().as_slice(), swarm_to_sql(swarm)])?;
        }
    }
    tx.execute(
        "UPDATE nodes SET swarm_id = ?1 WHERE status != 'active' AND swarm_id != ?1",
        params![swarm_to_sql(UNASSIGNED_SWARM_ID)],
    )?;
    tx.execute(
        "INSERT INTO blocks (height, hash, time, reason) VALUES (?1, ?2, ?3, ?4)",
        params![i64_of(height), hash.as_slice(), i64_of(now), reason],
    )?;
    tx.execute(
        "UPDATE chain SET height = ?1, block_hash = ?2 WHERE id = 0",
        params![i64_of(height), hash.as_slice()],
    )?;
    tracing::info!(height, reason, "new block");
    Ok(Block { height, hash })
}

/// A node's status, if it is live (awaiting stake or active).
fn live_status(tx: &Connection, node: &Ed25519PublicKey) -> Result<Option<NodeStatus>> {
    let status: Option<String> = tx
        .query_row(
            "SELECT status FROM nodes WHERE pubkey_ed25519 = ?1",
            params![node.as_bytes().as_slice()],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match status.as_deref() {
        Some("awaiting") => Some(NodeStatus::AwaitingContributions),
        Some("active") => Some(NodeStatus::Active),
        _ => None,
    })
}

fn read_stakes(conn: &Connection, node: &Ed25519PublicKey) -> Result<Vec<Contribution>> {
    let rows = read_address_amounts(
        conn,
        "SELECT address, amount FROM stakes WHERE node = ?1 ORDER BY position",
        params![node.as_bytes().as_slice()],
    )?;
    Ok(rows
        .into_iter()
        .map(|(address, amount)| Contribution { address, amount })
        .collect())
}

fn write_stakes(
    tx: &Transaction<'_>,
    node: &Ed25519PublicKey,
    stakes: &[Contribution],
) -> Result<()> {
    tx.execute(
        "DELETE FROM stakes WHERE node = ?1",
        params![node.as_bytes().as_slice()],
    )?;
    let mut insert =
        tx.prepare("INSERT INTO stakes (node, position, address, amount) VALUES (?1, ?2, ?3, ?4)")?;
    for (i, c) in stakes.iter().enumerate() {
        insert.execute(params![
            node.as_bytes().as_slice(),
            i64_of(i as u64),
            c.address.as_str(),
            amount_to_sql(c.amount)?
        ])?;
    }
    Ok(())
}

/// Mark a live node gone.
fn remove_node(
    tx: &Transaction<'_>,
    node: &Ed25519PublicKey,
    status: &str,
    reason: &str,
    now: u64,
) -> Result<()> {
    tx.execute(
        "UPDATE nodes SET status = ?2, left_at = ?3, left_reason = ?4 WHERE pubkey_ed25519 = ?1",
        params![node.as_bytes().as_slice(), status, i64_of(now), reason],
    )?;
    tx.execute(
        "DELETE FROM reports WHERE tested = ?1",
        params![node.as_bytes().as_slice()],
    )?;
    Ok(())
}

/// Count distinct active reporters whose latest report on `node` within the window failed.
fn failing_reporters(tx: &Connection, node: &Ed25519PublicKey, since: u64) -> Result<usize> {
    let n: i64 = tx.query_row(
        "SELECT COUNT(*) FROM reports r JOIN nodes n ON n.pubkey_ed25519 = r.reporter
         WHERE r.tested = ?1 AND r.passed = 0 AND r.time >= ?2 AND n.status = 'active'",
        params![node.as_bytes().as_slice(), i64_of(since)],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

fn add_balance(tx: &Transaction<'_>, address: &Address, amount: Amount) -> Result<()> {
    tx.execute(
        "INSERT INTO reward_balances (address, amount) VALUES (?1, ?2)
         ON CONFLICT (address) DO UPDATE SET amount = amount + excluded.amount",
        params![address.as_str(), amount_to_sql(amount)?],
    )?;
    Ok(())
}

impl Ledger for SqliteLedger {
    fn register(&mut self, reg: &Registration, now: u64) -> Result<Block> {
        rules::check_registration(reg)?;
        let tx = self.write()?;
        if live_status(&tx, &reg.ed25519)?.is_some() {
            return Err(Error::AlreadyRegistered(reg.ed25519.to_hex()));
        }
        let x_taken: bool = tx
            .query_row(
                "SELECT 1 FROM nodes WHERE pubkey_x25519 = ?1 AND status IN ('awaiting', 'active')",
                params![reg.x25519.as_bytes().as_slice()],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if x_taken {
            return Err(Error::DuplicateX25519(reg.x25519.to_hex()));
        }
        // A key that left may come back: its old record goes.
        tx.execute(
            "DELETE FROM nodes WHERE pubkey_ed25519 = ?1",
            params![reg.ed25519.as_bytes().as_slice()],
        )?;
        tx.execute(
            "DELETE FROM reports WHERE tested = ?1 OR reporter = ?1",
            params![reg.ed25519.as_bytes().as_slice()],
        )?;
        let mut stakes = vec![reg.operator.clone()];
        stakes.extend(reg.contributors.iter().cloned());
        let status = if rules::is_funded(&stakes) {
            "active"
        } else {
            "awaiting"
        };
        let (head, _) = read_head(&tx)?;
        tx.execute(
            "INSERT INTO nodes (pubkey_ed25519, pubkey_x25519, public_ip, storage_port,
                 storage_lmq_port, operator, fee_bps, status, swarm_id, registration_height,
                 registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                reg.ed25519.as_bytes().as_slice(),
                reg.x25519.as_bytes().as_slice(),
                reg.public_ip.to_string(),
                reg.storage_port,
                reg.storage_lmq_port,
                reg.operator.address.as_str(),
                reg.fee_bps,
                status,
                swarm_to_sql(UNASSIGNED_SWARM_ID),
                i64_of(head.height + 1),
                i64_of(now)
            ],
        )?;
        write_stakes(&tx, &reg.ed25519, &stakes)?;
        let block = new_block(&tx, "register", now)?;
        tx.commit()?;
        Ok(block)
    }

    fn stake(
        &mut self,
        node: &Ed25519PublicKey,
        contribution: &Contribution,
        now: u64,
    ) -> Result<Block> {
        let tx = self.write()?;
        match live_status(&tx, node)? {
            None => return Err(Error::UnknownNode(node.to_hex())),
            Some(NodeStatus::Active) => return Err(Error::AlreadyFunded(node.to_hex())),
            Some(NodeStatus::AwaitingContributions) => {}
        }
        let stakes = rules::apply_contribution(&read_stakes(&tx, node)?, contribution)?;
        write_stakes(&tx, node, &stakes)?;
        if rules::is_funded(&stakes) {
            tx.execute(
                "UPDATE nodes SET status = 'active' WHERE pubkey_ed25519 = ?1",
                params![node.as_bytes().as_slice()],
            )?;
        }
        let block = new_block(&tx, "stake", now)?;
        tx.commit()?;
        Ok(block)
    }

    fn unlock(&mut self, node: &Ed25519PublicKey, exit_at: u64, now: u64) -> Result<Block> {
        let tx = self.write()?;
        if live_status(&tx, node)?.is_none() {
            return Err(Error::UnknownNode(node.to_hex()));
        }
        let current: Option<i64> = tx.query_row(
            "SELECT exit_at FROM nodes WHERE pubkey_ed25519 = ?1",
            params![node.as_bytes().as_slice()],
            |r| r.get(0),
        )?;
        if let Some(at) = current {
            return Err(Error::AlreadyUnlocking {
                node: node.to_hex(),
                exit_at: u64_from_sql(at, "exit time")?,
            });
        }
        tx.execute(
            "UPDATE nodes SET exit_at = ?2 WHERE pubkey_ed25519 = ?1",
            params![node.as_bytes().as_slice(), i64_of(exit_at)],
        )?;
        let block = new_block(&tx, "unlock", now)?;
        tx.commit()?;
        Ok(block)
    }

    fn deregister(&mut self, node: &Ed25519PublicKey, reason: &str, now: u64) -> Result<Block> {
        let tx = self.write()?;
        if live_status(&tx, node)?.is_none() {
            return Err(Error::UnknownNode(node.to_hex()));
        }
        remove_node(&tx, node, "deregistered", reason, now)?;
        let block = new_block(&tx, "deregister", now)?;
        tx.commit()?;
        Ok(block)
    }

    fn report(
        &mut self,
        report: &PeerReport,
        rules: &VoteRules,
        now: u64,
    ) -> Result<ReportOutcome> {
        let tx = self.write()?;
        if live_status(&tx, &report.reporter)? != Some(NodeStatus::Active) {
            return Err(Error::ReporterNotActive(report.reporter.to_hex()));
        }
        if report.reporter == report.tested {
            return Err(Error::SelfReport);
        }
        if live_status(&tx, &report.tested)? != Some(NodeStatus::Active) {
            return Err(Error::UnknownNode(report.tested.to_hex()));
        }
        tx.execute(
            "INSERT INTO reports (reporter, tested, passed, time) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (reporter, tested) DO UPDATE SET passed = excluded.passed,
                 time = excluded.time",
            params![
                report.reporter.as_bytes().as_slice(),
                report.tested.as_bytes().as_slice(),
                report.passed,
                i64_of(now)
            ],
        )?;
        let since = now.saturating_sub(rules.window_secs);
        let failing = failing_reporters(&tx, &report.tested, since)?;
        let mut deregistered = None;
        if !report.passed && failing >= rules.quorum.max(1) {
            tracing::warn!(
                node = %report.tested.to_hex(),
                failing,
                "deregistering a node that failed its peers' tests"
            );
            remove_node(
                &tx,
                &report.tested,
                "deregistered",
                "failed peer tests",
                now,
            )?;
            deregistered = Some(new_block(&tx, "deregister (failed peer tests)", now)?);
        }
        tx.commit()?;
        Ok(ReportOutcome {
            failing_reporters: failing,
            deregistered,
        })
    }

    fn tick(&mut self, rewards: &RewardRules, now: u64) -> Result<TickOutcome> {
        let tx = self.write()?;
        let mut out = TickOutcome::default();
        let leaving: Vec<Ed25519PublicKey> = {
            let mut stmt = tx.prepare(
                "SELECT pubkey_ed25519 FROM nodes
                 WHERE status IN ('awaiting', 'active') AND exit_at IS NOT NULL AND exit_at <= ?1
                 ORDER BY pubkey_ed25519",
            )?;
            let rows = stmt.query_map(params![i64_of(now)], |r| r.get::<_, Vec<u8>>(0))?;
            let mut v = Vec::new();
            for row in rows {
                v.push(Ed25519PublicKey(key_from_sql(row?)?));
            }
            v
        };
        for node in &leaving {
            remove_node(&tx, node, "exited", "unlocked", now)?;
        }
        if !leaving.is_empty() {
            out.block = Some(new_block(&tx, "exit after unlock", now)?);
        }
        out.exited = leaving;

        if let Some(period) = now.checked_div(rewards.period_secs) {
            let last: Option<i64> = tx.query_row(
                "SELECT last_reward_period FROM chain WHERE id = 0",
                [],
                |r| r.get(0),
            )?;
            let due = match last {
                None => false,
                Some(last) => i64_of(period) > last,
            };
            if due {
                pay_rewards(&tx, rewards.per_node)?;
                out.rewarded = true;
            }
            if due || last.is_none() {
                tx.execute(
                    "UPDATE chain SET last_reward_period = ?1 WHERE id = 0",
                    params![i64_of(period)],
                )?;
            }
        }
        tx.commit()?;
        Ok(out)
    }

    fn set_swarm_sizes(&mut self, sizes: &SwarmSizes, now: u64) -> Result<Option<Block>> {
        let tx = self.write()?;
        let (_, current) = read_head(&tx)?;
        if current == *sizes {
            return Ok(None);
        }
        tx.execute(
            "UPDATE chain SET swarm_min = ?1, swarm_ideal = ?2, swarm_max = ?3 WHERE id = 0",
            params![
                i64_of(sizes.min() as u64),
                i64_of(sizes.ideal() as u64),
                i64_of(sizes.max() as u64)
            ],
        )?;
        let block = new_block(&tx, "swarm sizes", now)?;
        tx.commit()?;
        Ok(Some(block))
    }

    fn head(&self) -> Result<Block> {
        Ok(read_head(&self.conn)?.0)
    }

    fn snapshot(&self) -> Result<Snapshot> {
        let tx = self.conn.unchecked_transaction()?;
        let (head, sizes) = read_head(&tx)?;
        let mut nodes = Vec::new();
        {
            let mut stmt = tx.prepare(
                "SELECT pubkey_ed25519, pubkey_x25519, public_ip, storage_port, storage_lmq_port,
                        operator, fee_bps, status, swarm_id, registration_height, exit_at, earned
                 FROM nodes WHERE status IN ('awaiting', 'active') ORDER BY pubkey_ed25519",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let ed25519 = Ed25519PublicKey(key_from_sql(r.get(0)?)?);
                let ip: String = r.get(2)?;
                let operator: String = r.get(5)?;
                let status: String = r.get(7)?;
                let exit_at: Option<i64> = r.get(10)?;
                nodes.push(NodeRecord {
                    ed25519,
                    x25519: X25519PublicKey(key_from_sql(r.get(1)?)?),
                    public_ip: ip
                        .parse::<IpAddr>()
                        .map_err(|_| Error::Corrupt(format!("public_ip {ip:?}")))?,
                    storage_port: r.get(3)?,
                    storage_lmq_port: r.get(4)?,
                    operator: operator
                        .parse()
                        .map_err(|_| Error::Corrupt(format!("operator {operator:?}")))?,
                    fee_bps: r.get(6)?,
                    contributions: read_stakes(&tx, &ed25519)?,
                    status: if status == "active" {
                        NodeStatus::Active
                    } else {
                        NodeStatus::AwaitingContributions
                    },
                    swarm_id: swarm_from_sql(r.get(8)?),
                    registration_height: u64_from_sql(r.get(9)?, "height")?,
                    exit_at: exit_at.map(|v| u64_from_sql(v, "exit time")).transpose()?,
                    earned: amount_from_sql(r.get(11)?)?,
                });
            }
        }
        tx.finish()?;
        Ok(Snapshot {
            height: head.height,
            block_hash: head.hash,
            sizes,
            nodes,
        })
    }

    fn rewards(&self) -> Result<Vec<RewardBalance>> {
        let rows = read_address_amounts(
            &self.conn,
            "SELECT address, amount FROM reward_balances ORDER BY amount DESC, address",
            [],
        )?;
        Ok(rows
            .into_iter()
            .map(|(address, amount)| RewardBalance { address, amount })
            .collect())
    }
}

/// Credit one period's reward of every active node to its stakers.
fn pay_rewards(tx: &Transaction<'_>, per_node: Amount) -> Result<()> {
    let nodes = active_nodes(tx, "fee_bps")?;
    for (node, fee) in nodes {
        let stakes = read_stakes(tx, &node)?;
        let fee = u16::try_from(fee).map_err(|_| Error::Corrupt(format!("fee {fee}")))?;
        for (stake, share) in stakes
            .iter()
            .zip(rules::split_reward(per_node, fee, &stakes))
        {
            if share > Amount::ZERO {
                add_balance(tx, &stake.address, share)?;
            }
        }
        tx.execute(
            "UPDATE nodes SET earned = earned + ?2 WHERE pubkey_ed25519 = ?1",
            params![node.as_bytes().as_slice(), amount_to_sql(per_node)?],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
