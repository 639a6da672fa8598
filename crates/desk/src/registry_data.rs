//! Between the registry crate's types and the store's rows, and the shared, refreshed
//! attribution index the workers read.
use std::sync::{Arc, RwLock};

use abusedesk_registry::{Assignment, Contract, HostedDomain, Network, RegistryIndex, RowId};
use abusedesk_store::{
    AssignmentRow, ContractRow, HostedDomainRow, NetworkRow, RegistrySnapshot, Store, StoreError,
};

pub fn contract_row(c: &Contract) -> ContractRow {
    ContractRow {
        id: c.id.as_str().to_owned(),
        parent: c.parent.as_ref().map(|p| p.as_str().to_owned()),
        doc: serde_json::to_value(c).unwrap_or_default(),
    }
}

pub fn assignment_row(a: &Assignment) -> AssignmentRow {
    AssignmentRow {
        id: 0,
        contract: a.contract.as_str().to_owned(),
        prefix: a.prefix.to_string(),
        doc: serde_json::to_value(a).unwrap_or_default(),
    }
}

pub fn domain_row(d: &HostedDomain) -> HostedDomainRow {
    HostedDomainRow {
        id: 0,
        domain: d.domain.as_str().to_owned(),
        contract: d.contract.as_str().to_owned(),
        doc: serde_json::to_value(d).unwrap_or_default(),
    }
}

pub fn network_row(n: &Network) -> NetworkRow {
    NetworkRow {
        prefix: n.prefix.to_string(),
        doc: serde_json::to_value(n).unwrap_or_default(),
    }
}

/// Build the index from a snapshot. Rows whose stored document no longer parses (it was
/// written by another version) are skipped and named in the returned problems.
pub fn build_index(snap: &RegistrySnapshot) -> (RegistryIndex, Vec<String>) {
    let mut problems = Vec::new();
    let mut b = RegistryIndex::builder();
    for c in &snap.contracts {
        match serde_json::from_value::<Contract>(c.doc.clone()) {
            Ok(v) => {
                b.contract(v);
            }
            Err(e) => problems.push(format!("contract {}: {e}", c.id)),
        }
    }
    for n in &snap.networks {
        match serde_json::from_value::<Network>(n.doc.clone()) {
            Ok(v) => {
                b.network(v);
            }
            Err(e) => problems.push(format!("network {}: {e}", n.prefix)),
        }
    }
    for a in &snap.assignments {
        match serde_json::from_value::<Assignment>(a.doc.clone()) {
            Ok(v) => {
                b.assignment(RowId(a.id as u64), &v);
            }
            Err(e) => problems.push(format!("assignment {}: {e}", a.id)),
        }
    }
    for d in &snap.domains {
        match serde_json::from_value::<HostedDomain>(d.doc.clone()) {
            Ok(v) => {
                b.domain(RowId(d.id as u64), &v);
            }
            Err(e) => problems.push(format!("hosted domain {}: {e}", d.id)),
        }
    }
    let index = b.build();
    problems.extend(index.problems().iter().map(ToString::to_string));
    (index, problems)
}

/// The current index and the registry version it was built from.
pub struct IndexCache {
    current: RwLock<Arc<(i64, RegistryIndex)>>,
    rebuild: tokio::sync::Mutex<()>,
}

impl Default for IndexCache {
    fn default() -> Self {
        IndexCache {
            current: RwLock::new(Arc::new((-1, RegistryIndex::builder().build()))),
            rebuild: tokio::sync::Mutex::new(()),
        }
    }
}

impl IndexCache {
    /// The index for the store's current registry version (rebuilt if it changed).
    pub async fn get(&self, store: &Store) -> Result<Arc<(i64, RegistryIndex)>, StoreError> {
        let version = store.registry_version().await?;
        let have = self.snapshot();
        if have.0 == version {
            return Ok(have);
        }
        let _guard = self.rebuild.lock().await;
        let have = self.snapshot();
        if have.0 == version {
            return Ok(have);
        }
        let snap = store.registry_snapshot().await?;
        let started = std::time::Instant::now();
        let built = tokio::task::spawn_blocking(move || {
            let (index, problems) = build_index(&snap);
            (snap.version, snap.assignments.len(), index, problems)
        })
        .await
        .map_err(|e| StoreError::Corrupt(format!("building the registry index failed: {e}")))?;
        let (version, rows, index, problems) = built;
        for p in problems.iter().take(20) {
            tracing::warn!(problem = %p, "registry data problem");
        }
        tracing::info!(
            version,
            assignments = rows,
            took_ms = started.elapsed().as_millis() as u64,
            "registry index built"
        );
        let fresh = Arc::new((version, index));
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    fn snapshot(&self) -> Arc<(i64, RegistryIndex)> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
