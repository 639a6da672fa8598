//! The network registry's rows. Validation of prefixes, intervals and references is the
//! registry crate's job (it parses before anything reaches the store); the store keeps
//! the rows and a version number that every write bumps, so workers know when to rebuild
//! their in-memory index.
use crate::backend::{Get, dispatch};
use crate::{
    AssignmentRow, ContractRow, HostedDomainRow, ImportCounts, Millis, NetworkRow, RegistryImport,
    RegistrySnapshot, Store, StoreError,
};

const BUMP: &str = "UPDATE meta SET value = value + 1 WHERE key = 'registry_version'";

fn assignment_from_row(r: &impl Get) -> Result<AssignmentRow, StoreError> {
    Ok(AssignmentRow {
        id: r.i64("id")?,
        prefix: r.string("prefix")?,
        contract: r.string("contract")?,
        valid_from: r.oi64("valid_from")?,
        valid_to: r.oi64("valid_to")?,
        port_from: r.oi64("port_from")?,
        port_to: r.oi64("port_to")?,
    })
}

fn contract_from_row(r: &impl Get) -> Result<ContractRow, StoreError> {
    Ok(ContractRow {
        id: r.string("id")?,
        name: r.string("name")?,
        parent: r.ostring("parent")?,
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
            "INSERT INTO contracts (id, name, parent, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent = excluded.parent, \
             updated_at = excluded.updated_at",
        )
        .bind(&$c.id)
        .bind(&$c.name)
        .bind(&$c.parent)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}
macro_rules! insert_assignment {
    ($tx:expr, $a:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO assignments (prefix, contract, valid_from, valid_to, port_from, port_to, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&$a.prefix)
        .bind(&$a.contract)
        .bind($a.valid_from)
        .bind($a.valid_to)
        .bind($a.port_from)
        .bind($a.port_to)
        .bind($now)
        .fetch_one(&mut *$tx)
        .await?
    };
}
macro_rules! upsert_domain {
    ($tx:expr, $d:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO hosted_domains (domain, contract, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (domain) DO UPDATE SET contract = excluded.contract, updated_at = excluded.updated_at",
        )
        .bind(&$d.domain)
        .bind(&$d.contract)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
}
macro_rules! upsert_network {
    ($tx:expr, $n:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO networks (prefix, name, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (prefix) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at",
        )
        .bind(&$n.prefix)
        .bind(&$n.name)
        .bind($now)
        .execute(&mut *$tx)
        .await?
    };
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
            let contracts = sqlx::query("SELECT id, name, parent FROM contracts ORDER BY id")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(contract_from_row)
                .collect::<Result<Vec<_>, _>>()?;
            let assignments = sqlx::query(
                "SELECT id, prefix, contract, valid_from, valid_to, port_from, port_to \
                 FROM assignments ORDER BY id",
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(assignment_from_row)
            .collect::<Result<Vec<_>, _>>()?;
            let domains = sqlx::query("SELECT domain, contract FROM hosted_domains ORDER BY domain")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok(HostedDomainRow { domain: r.string("domain")?, contract: r.string("contract")? }))
                .collect::<Result<Vec<_>, StoreError>>()?;
            let networks = sqlx::query("SELECT prefix, name FROM networks ORDER BY prefix")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| Ok(NetworkRow { prefix: r.string("prefix")?, name: r.string("name")? }))
                .collect::<Result<Vec<_>, StoreError>>()?;
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
            sqlx::query("SELECT id, name, parent FROM contracts WHERE id > $1 ORDER BY id LIMIT $2")
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
            sqlx::query("SELECT id, name, parent FROM contracts WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .as_ref()
                .map(contract_from_row)
                .transpose()
        })
    }

    /// Create or replace a contract. Returns `true` if it was created.
    pub async fn put_contract(&self, c: &ContractRow, now: Millis) -> Result<bool, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            if let Some(parent) = &c.parent {
                if parent == &c.id {
                    return Err(StoreError::Conflict(format!("contract {} cannot be its own parent", c.id)));
                }
                let exists = sqlx::query("SELECT 1 FROM contracts WHERE id = $1")
                    .bind(parent)
                    .fetch_optional(&mut *tx)
                    .await?
                    .is_some();
                if !exists {
                    return Err(StoreError::Conflict(format!("parent contract {parent} does not exist")));
                }
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
        dispatch!(self, pool => {
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

    // ---- assignments

    /// Assignments ordered by id after `after` (optionally of one contract).
    pub async fn list_assignments(
        &self,
        contract: Option<&str>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AssignmentRow>, StoreError> {
        dispatch!(self, pool => {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT id, prefix, contract, valid_from, valid_to, port_from, port_to FROM assignments WHERE id > ",
            );
            qb.push_bind(after);
            if let Some(c) = contract {
                qb.push(" AND contract = ").push_bind(c.to_owned());
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(limit);
            qb.build()
                .fetch_all(pool)
                .await?
                .iter()
                .map(assignment_from_row)
                .collect()
        })
    }

    pub async fn get_assignment(&self, id: i64) -> Result<Option<AssignmentRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query(
                "SELECT id, prefix, contract, valid_from, valid_to, port_from, port_to FROM assignments WHERE id = $1",
            )
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
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            require_contract!(tx, &a.contract);
            let id = insert_assignment!(tx, a, now).i64("id")?;
            sqlx::query(BUMP).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Replace assignment `id`. `Ok(false)`: no such assignment.
    pub async fn update_assignment(
        &self,
        id: i64,
        a: &AssignmentRow,
        now: Millis,
    ) -> Result<bool, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            require_contract!(tx, &a.contract);
            let n = sqlx::query(
                "UPDATE assignments SET prefix = $2, contract = $3, valid_from = $4, valid_to = $5, \
                 port_from = $6, port_to = $7, updated_at = $8 WHERE id = $1",
            )
            .bind(id)
            .bind(&a.prefix)
            .bind(&a.contract)
            .bind(a.valid_from)
            .bind(a.valid_to)
            .bind(a.port_from)
            .bind(a.port_to)
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

    pub async fn delete_assignment(&self, id: i64) -> Result<bool, StoreError> {
        self.delete_and_bump("DELETE FROM assignments WHERE id = $1", Key::Int(id))
            .await
    }

    // ---- hosted domains

    pub async fn list_domains(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<HostedDomainRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT domain, contract FROM hosted_domains WHERE domain > $1 ORDER BY domain LIMIT $2")
                .bind(after.unwrap_or(""))
                .bind(limit)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| Ok(HostedDomainRow { domain: r.string("domain")?, contract: r.string("contract")? }))
                .collect()
        })
    }

    /// Create or replace a hosted domain (its contract must exist). `true` if created.
    pub async fn put_domain(&self, d: &HostedDomainRow, now: Millis) -> Result<bool, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            require_contract!(tx, &d.contract);
            let existed = sqlx::query("SELECT 1 FROM hosted_domains WHERE domain = $1")
                .bind(&d.domain)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            upsert_domain!(tx, d, now);
            sqlx::query(BUMP).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(!existed)
        })
    }

    pub async fn delete_domain(&self, domain: &str) -> Result<bool, StoreError> {
        self.delete_and_bump(
            "DELETE FROM hosted_domains WHERE domain = $1",
            Key::Text(domain),
        )
        .await
    }

    // ---- our networks

    pub async fn list_networks(&self) -> Result<Vec<NetworkRow>, StoreError> {
        dispatch!(self, pool => {
            sqlx::query("SELECT prefix, name FROM networks ORDER BY prefix")
                .fetch_all(pool)
                .await?
                .iter()
                .map(|r| Ok(NetworkRow { prefix: r.string("prefix")?, name: r.string("name")? }))
                .collect()
        })
    }

    /// Create or replace one of our networks. `true` if created.
    pub async fn put_network(&self, n: &NetworkRow, now: Millis) -> Result<bool, StoreError> {
        dispatch!(self, pool => {
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
        self.delete_and_bump("DELETE FROM networks WHERE prefix = $1", Key::Text(prefix))
            .await
    }

    /// Bulk import in one transaction: contracts first (parents before children is not
    /// required), then networks, domains and assignments. Every contract referred to
    /// must exist after the import, or nothing is written.
    pub async fn import_registry(
        &self,
        import: &RegistryImport,
        now: Millis,
    ) -> Result<ImportCounts, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut counts = ImportCounts::default();
            for c in &import.contracts {
                upsert_contract!(tx, c, now);
                counts.contracts += 1;
            }
            for c in &import.contracts {
                if let Some(parent) = &c.parent {
                    require_contract!(tx, parent);
                }
            }
            for n in &import.networks {
                upsert_network!(tx, n, now);
                counts.networks += 1;
            }
            let mut checked = std::collections::HashSet::new();
            for d in &import.domains {
                if checked.insert(d.contract.clone()) {
                    require_contract!(tx, &d.contract);
                }
                upsert_domain!(tx, d, now);
                counts.domains += 1;
            }
            if import.replace_assignments {
                let contracts: std::collections::BTreeSet<&str> =
                    import.assignments.iter().map(|a| a.contract.as_str()).collect();
                for c in contracts {
                    sqlx::query("DELETE FROM assignments WHERE contract = $1")
                        .bind(c)
                        .execute(&mut *tx)
                        .await?;
                }
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

    async fn delete_and_bump(&self, sql: &str, key: Key<'_>) -> Result<bool, StoreError> {
        dispatch!(self, pool => {
            let mut tx = pool.begin().await?;
            let q = sqlx::query(sql);
            let q = match key {
                Key::Int(i) => q.bind(i),
                Key::Text(t) => q.bind(t.to_owned()),
            };
            let n = q.execute(&mut *tx).await?.rows_affected();
            if n > 0 {
                sqlx::query(BUMP).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(n > 0)
        })
    }
}

enum Key<'a> {
    Int(i64),
    Text(&'a str),
}
