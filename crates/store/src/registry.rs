//! The network registry's rows. Validation (prefixes, intervals, ports, e-mail
//! addresses) is the registry crate's job: it parses before anything reaches the store.
//! The store keeps each row's JSON record, checks references between rows (an
//! assignment's contract must exist, a contract in use cannot be deleted), and keeps a
//! version number that every write bumps, so workers know when to rebuild their index.
use crate::backend::{Get, dispatch, dispatch_write};
use crate::{
    AssignmentRow, ContractRow, HostedDomainRow, ImportCounts, Millis, NetworkRow, RegistryImport,
    RegistrySnapshot, Store, StoreError,
};

const BUMP: &str = "UPDATE meta SET value = value + 1 WHERE key = 'registry_version'";

fn doc(r: &impl Get) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(&r.string("doc")?)
        .map_err(|e| StoreError::Corrupt(format!("registry document: {e}")))
}

fn contract_from_row(r: &impl Get) -> Result<ContractRow, StoreError> {
    Ok(ContractRow {
        id: r.string("id")?,
        parent: r.ostring("parent")?,
        doc: doc(r)?,
    })
}

fn assignment_from_row(r: &impl Get) -> Result<AssignmentRow, StoreError> {
    Ok(AssignmentRow {
        id: r.i64("id")?,
        contract: r.string("contract")?,
        prefix: r.string("prefix")?,
        doc: doc(r)?,
    })
}

fn domain_from_row(r: &impl Get) -> Result<HostedDomainRow, StoreError> {
    Ok(HostedDomainRow {
        id: r.i64("id")?,
        domain: r.string("domain")?,
        contract: r.string("contract")?,
        doc: doc(r)?,
    })
}

fn network_from_row(r: &impl Get) -> Result<NetworkRow, StoreError> {
    Ok(NetworkRow {
        prefix: r.string("prefix")?,
        doc: doc(r)?,
    })
}

macro_rules! require_contract {
    ($tx:expr, $id:expr) => {
        if sqlx::query("SELECT 1 FROM contracts WHERE id = $1")
            .bind($id)
            .fetch_optional(&mut *$tx)
            .await?
            .is_none()
        {
            return Err(StoreError::Conflict(format!(
                "contract {} does not exist",
                $id
            )));
        }
    };
}
macro_rules! upsert_contract {
    ($tx:expr, $c:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO contracts (id, parent, doc, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET parent = excluded.parent, doc = excluded.doc, \
             updated_at = excluded.updated_at",
        )
        .bind(&$c.id)
        .bind(&$c.parent)
        .bind($c.doc.to_string())
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}
macro_rules! insert_assignment {
    ($tx:expr, $a:expr, $now:expr) => {
        sqlx::query("INSERT INTO assignments (contract, prefix, doc, updated_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(&$a.contract)
            .bind(&$a.prefix)
            .bind($a.doc.to_string())
            .bind($now)
            .fetch_one(&mut *$tx)
            .await?
    };
}
macro_rules! insert_domain {
    ($tx:expr, $d:expr, $now:expr) => {
        sqlx::query("INSERT INTO hosted_domains (domain, contract, doc, updated_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(&$d.domain)
            .bind(&$d.contract)
            .bind($d.doc.to_string())
            .bind($now)
            .fetch_one(&mut *$tx)
            .await?
    };
}
macro_rules! upsert_network {
    ($tx:expr, $n:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO networks (prefix, doc, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (prefix) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
        )
        .bind(&$n.prefix)
        .bind($n.doc.to_string())
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}

/// Which kind of registry row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryTable {
    Assignments,
    Domains,
}

impl RegistryTable {
    fn table(self) -> &'static str {
        match self {
            RegistryTable::Assignments => "assignments",
            RegistryTable::Domains => "hosted_domains",
        }
    }
}

impl Store {
    /// The registry version: bumped by every registry write.
    pub async fn registry_version(&self) -> Result<i64, StoreError> {
        dispatch!(self, pool => {
            Ok(sqlx::query("SELECT value FROM meta WHERE key = 'registry_version'")
                .fetch_one(pool)
                .await?
                .i64("value")?)
        })
    }

    /// Every registry row, read in one transaction (a consistent view), with its version.
    pub async fn registry_snapshot(&self) -> Result<RegistrySnapshot, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            let version = sqlx::query("SELECT value FROM meta WHERE key = 'registry_version'")
                .fetch_one(&mut *tx)
                .await?
                .i64("value")?;
            let contracts = sqlx::query("SELECT id, parent, doc FROM contracts ORDER BY id")
                .fetch_all(&mut *tx).await?.iter().map(contract_from_row).collect::<Result<Vec<_>, _>>()?;
            let assignments = sqlx::query("SELECT id, contract, prefix, doc FROM assignments ORDER BY id")
                .fetch_all(&mut *tx).await?.iter().map(assignment_from_row).collect::<Result<Vec<_>, _>>()?;
            let domains = sqlx::query("SELECT id, domain, contract, doc FROM hosted_domains ORDER BY id")
                .fetch_all(&mut *tx).await?.iter().map(domain_from_row).collect::<Result<Vec<_>, _>>()?;
            let networks = sqlx::query("SELECT prefix, doc FROM networks ORDER BY prefix")
                .fetch_all(&mut *tx).await?.iter().map(network_from_row).collect::<Result<Vec<_>, _>>()?;
            tx.commit().await?;
            Ok(RegistrySnapshot { version, contracts, assignments, domains, networks })
        })
    }

    // ---- contracts

    /// Contracts ordered by id, after `after`, at most `limit`.
    pub async fn list_contracts(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ContractRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT id, parent, doc FROM contracts WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after.unwrap_or(""))
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(contract_from_row)
                .collect()
        })
    }

    pub async fn get_contract(&self, id: &str) -> Result<Option<ContractRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT id, parent, doc FROM contracts WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(contract_from_row)
                .transpose()
        })
    }

    /// Create or replace a contract (its parent must exist). Returns `true` if created.
    pub async fn put_contract(&self, c: &ContractRow, now: Millis) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            if let Some(parent) = &c.parent {
                if parent == &c.id {
                    return Err(StoreError::Conflict(format!("contract {} cannot be its own parent", c.id)));
                }
                require_contract!(tx, parent);
            }
            let existed = sqlx::query("SELECT 1 FROM contracts WHERE id = $1")
                .bind(&c.id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            upsert_contract!(tx, c, now);
            sqlx::query(BUMP).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(!existed)
        })
    }

    /// Delete a contract that nothing refers to. `Ok(false)`: no such contract.
    pub async fn delete_contract(&self, id: &str) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            for (table, column, what) in [
                ("assignments", "contract", "assignments"),
                ("hosted_domains", "contract", "hosted domains"),
                ("contracts", "parent", "child contracts"),
            ] {
                let used = sqlx::query(&format!("SELECT 1 FROM {table} WHERE {column} = $1 LIMIT 1"))
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                if used {
                    return Err(StoreError::Conflict(format!("contract {id} still has {what}")));
                }
            }
            let n = sqlx::query("DELETE FROM contracts WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                sqlx::query(BUMP).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    // ---- assignments and hosted domains

    /// Assignments ordered by id after `after` (optionally of one contract).
    pub async fn list_assignments(
        &self,
        contract: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AssignmentRow>, StoreError> {
        dispatch!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, contract, prefix, doc FROM assignments WHERE id > ");
            qb.push_bind(after);
            if let Some(c) = contract {
                qb.push(" AND contract = ").push_bind(c.to_owned());
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(limit);
            qb.build().fetch_all(pool).await?.iter().map(assignment_from_row).collect()
        })
    }

    pub async fn get_assignment(&self, id: i64) -> Result<Option<AssignmentRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT id, contract, prefix, doc FROM assignments WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(assignment_from_row)
                .transpose()
        })
    }

    /// Add an assignment (its contract must exist); returns its id.
    pub async fn add_assignment(&self, a: &AssignmentRow, now: Millis) -> Result<i64, StoreError> {
        let _writing = self.writer().await;
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            require_contract!(tx, &a.contract);
            let id = insert_assignment!(tx, a, now).i64("id")?;
            sqlx::query(BUMP).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Hosted domains ordered by id after `after` (optionally of one contract).
    pub async fn list_domains(
        &self,
        contract: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<HostedDomainRow>, StoreError> {
        dispatch!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new("SELECT id, domain, contract, doc FROM hosted_domains WHERE id > ");
            qb.push_bind(after);
            if let Some(c) = contract {
                qb.push(" AND contract = ").push_bind(c.to_owned());
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(limit);
            qb.build().fetch_all(pool).await?.iter().map(domain_from_row).collect()
        })
    }

    pub async fn get_domain(&self, id: i64) -> Result<Option<HostedDomainRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT id, domain, contract, doc FROM hosted_domains WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(domain_from_row)
                .transpose()
        })
    }

    /// Add a hosted domain (its contract must exist); returns its id.
    pub async fn add_domain(&self, d: &HostedDomainRow, now: Millis) -> Result<i64, StoreError> {
        let _writing = self.writer().await;
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            require_contract!(tx, &d.contract);
            let id = insert_domain!(tx, d, now).i64("id")?;
            sqlx::query(BUMP).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Replace row `id` of `table` with `contract`, `key` (prefix or domain) and `doc`.
    /// `Ok(false)`: no such row.
    pub async fn update_registry_row(
        &self,
        table: RegistryTable,
        id: i64,
        contract: &str,
        key: &str,
        doc: &serde_json::Value,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        let key_col = match table {
            RegistryTable::Assignments => "prefix",
            RegistryTable::Domains => "domain",
        };
        let sql = format!(
            "UPDATE {} SET contract = $2, {key_col} = $3, doc = $4, updated_at = $5 WHERE id = $1",
            table.table()
        );
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            require_contract!(tx, contract);
            let n = sqlx::query(&sql)
                .bind(id)
                .bind(contract)
                .bind(key)
                .bind(doc.to_string())
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                sqlx::query(BUMP).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    /// Delete row `id` of `table`. `Ok(false)`: no such row.
    pub async fn delete_registry_row(
        &self,
        table: RegistryTable,
        id: i64,
    ) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        let sql = format!("DELETE FROM {} WHERE id = $1", table.table());
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(&sql).bind(id).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                sqlx::query(BUMP).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    // ---- our networks

    pub async fn list_networks(&self) -> Result<Vec<NetworkRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT prefix, doc FROM networks ORDER BY prefix")
                .fetch_all(pool)
                .await?
                .iter()
                .map(network_from_row)
                .collect()
        })
    }

    /// Create or replace one of our networks. `true` if created.
    pub async fn put_network(&self, n: &NetworkRow, now: Millis) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            let existed = sqlx::query("SELECT 1 FROM networks WHERE prefix = $1")
                .bind(&n.prefix)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            upsert_network!(tx, n, now);
            sqlx::query(BUMP).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(!existed)
        })
    }

    pub async fn delete_network(&self, prefix: &str) -> Result<bool, StoreError> {
        let _writing = self.writer().await;
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            let n = sqlx::query("DELETE FROM networks WHERE prefix = $1").bind(prefix).execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                sqlx::query(BUMP).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        })
    }

    /// Bulk import in one transaction: contracts (in any order), networks, hosted
    /// domains, assignments. Every contract referred to must exist once the import's
    /// contracts are in, or nothing is written.
    pub async fn import_registry(
        &self,
        import: &RegistryImport,
        now: Millis,
    ) -> Result<ImportCounts, StoreError> {
        let _writing = self.writer().await;
        use std::collections::{BTreeSet, HashSet};
        dispatch_write!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut counts = ImportCounts::default();
            for c in &import.contracts {
                upsert_contract!(tx, c, now);
                counts.contracts += 1;
            }
            let mut checked = HashSet::new();
            for c in &import.contracts {
                if let Some(parent) = &c.parent
                    && checked.insert(parent.clone())
                {
                    require_contract!(tx, parent);
                }
            }
            for n in &import.networks {
                upsert_network!(tx, n, now);
                counts.networks += 1;
            }
            if import.replace {
                let named: BTreeSet<&str> = import.domains.iter().map(|d| d.contract.as_str()).collect();
                for c in named {
                    sqlx::query("DELETE FROM hosted_domains WHERE contract = $1").bind(c).execute(&mut *tx).await?;
                }
                let named: BTreeSet<&str> = import.assignments.iter().map(|a| a.contract.as_str()).collect();
                for c in named {
                    sqlx::query("DELETE FROM assignments WHERE contract = $1").bind(c).execute(&mut *tx).await?;
                }
            }
            for d in &import.domains {
                if checked.insert(d.contract.clone()) {
                    require_contract!(tx, &d.contract);
                }
                insert_domain!(tx, d, now);
                counts.domains += 1;
            }
            for a in &import.assignments {
                if checked.insert(a.contract.clone()) {
                    require_contract!(tx, &a.contract);
                }
                insert_assignment!(tx, a, now);
                counts.assignments += 1;
            }
            sqlx::query(BUMP).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(counts)
        })
    }
}
