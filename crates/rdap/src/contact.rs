//! Choosing the abuse contact of a network, by a fixed order of rules.
//!
//! 1. `abuse_role`: a top-level entity with role `abuse` and a mail address;
//! 2. `nested_abuse_role`: an entity with role `abuse` nested under another (ARIN puts
//!    the abuse POC under the registrant organisation);
//! 3. `abuse_remark`: a mail address in a remark of the network that mentions abuse
//!    (AfriNIC 2015: "please send abuse reports to abuse@...");
//! 4. `network_contact`: the network's own contacts, by role: `noc`, `technical`,
//!    `administrative`, `registrant` (top-level before nested);
//! 5. `entity_without_roles`: the first entity with a mail address but no roles
//!    (AfriNIC 2015 entities carry no roles at all);
//! 6. `registry`: nothing usable in the record; the registry that published it (no
//!    mailbox: the desk shows the registry and its site).
//!
//! The first rule that yields a mail address wins; the contact says which rule, and
//! `explanation` says why the earlier rules did not.
use crate::bootstrap::Rir;
use crate::parse::{Entity, Remark, emails_in_text};
use serde::{Deserialize, Serialize};

/// Which rule chose the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRule {
    AbuseRole,
    NestedAbuseRole,
    AbuseRemark,
    NetworkContact,
    EntityWithoutRoles,
    Registry,
}

/// Where to send abuse reports about a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbuseContact {
    pub rule: ContactRule,
    /// Mail addresses, best first. Empty only for [`ContactRule::Registry`].
    pub emails: Vec<String>,
    pub handle: Option<String>,
    pub name: Option<String>,
    pub roles: Vec<String>,
    /// Handles the entity was nested under, outermost first.
    pub path: Vec<String>,
    /// The registry that published the record.
    pub registry: Option<Rir>,
    /// The rule and what the earlier rules found, for a person to read.
    pub explanation: String,
}

const NETWORK_ROLES: [&str; 4] = ["noc", "technical", "administrative", "registrant"];

fn label(e: &Entity) -> String {
    e.handle.clone().unwrap_or_else(|| "(no handle)".into())
}

fn from_entity(
    e: &Entity,
    rule: ContactRule,
    registry: Option<Rir>,
    explanation: String,
) -> AbuseContact {
    AbuseContact {
        rule,
        emails: e.emails.clone(),
        handle: e.handle.clone(),
        name: e.name.clone().or_else(|| e.org.clone()),
        roles: e.roles.clone(),
        path: e.path.clone(),
        registry,
        explanation,
    }
}

pub(crate) fn choose_abuse_contact(
    entities: &[Entity],
    remarks: &[Remark],
    registry: Option<Rir>,
) -> Option<AbuseContact> {
    let mut notes: Vec<String> = Vec::new();

    // 1 and 2: role abuse, top level first.
    let abuse: Vec<&Entity> = entities.iter().filter(|e| e.has_role("abuse")).collect();
    for e in abuse.iter().filter(|e| e.path.is_empty()) {
        if !e.emails.is_empty() {
            return Some(from_entity(
                e,
                ContactRule::AbuseRole,
                registry,
                format!("top-level entity {} has role abuse", label(e)),
            ));
        }
        notes.push(format!(
            "top-level abuse entity {} has no mail address",
            label(e)
        ));
    }
    for e in abuse.iter().filter(|e| !e.path.is_empty()) {
        if !e.emails.is_empty() {
            let mut why = format!(
                "entity {} has role abuse, nested under {}",
                label(e),
                e.path.join(" > ")
            );
            if notes.is_empty() {
                why.push_str("; no top-level entity has role abuse");
            } else {
                why = format!("{}; {why}", notes.join("; "));
            }
            return Some(from_entity(e, ContactRule::NestedAbuseRole, registry, why));
        }
        notes.push(format!(
            "nested abuse entity {} has no mail address",
            label(e)
        ));
    }
    if abuse.is_empty() {
        notes.push("no entity has role abuse".into());
    }

    // 3: a remark that mentions abuse and gives an address.
    for r in remarks {
        let text = r.description.join("\n");
        let whole = format!("{}\n{text}", r.title.as_deref().unwrap_or(""));
        if whole.to_lowercase().contains("abuse") {
            let emails = emails_in_text(&text);
            if !emails.is_empty() {
                return Some(AbuseContact {
                    rule: ContactRule::AbuseRemark,
                    emails,
                    handle: None,
                    name: None,
                    roles: Vec::new(),
                    path: Vec::new(),
                    registry,
                    explanation: format!(
                        "{}; a remark of the network names the abuse mailbox",
                        notes.join("; ")
                    ),
                });
            }
            notes.push("a remark mentions abuse but gives no mail address".into());
        }
    }

    // 4: the network's own contacts by role, top level first.
    for role in NETWORK_ROLES {
        let mut with_role: Vec<&Entity> = entities
            .iter()
            .filter(|e| e.has_role(role) && !e.emails.is_empty())
            .collect();
        with_role.sort_by_key(|e| e.path.len());
        if let Some(e) = with_role.first() {
            return Some(from_entity(
                e,
                ContactRule::NetworkContact,
                registry,
                format!(
                    "{}; using the {role} contact {}",
                    notes.join("; "),
                    label(e)
                ),
            ));
        }
    }

    // 5: entities without roles.
    if let Some(e) = entities
        .iter()
        .find(|e| e.roles.is_empty() && !e.emails.is_empty())
    {
        return Some(from_entity(
            e,
            ContactRule::EntityWithoutRoles,
            registry,
            format!(
                "{}; no entity has a role with a mail address; using {}, the first entity without roles that has one",
                notes.join("; "),
                label(e)
            ),
        ));
    }

    // 6: the registry.
    let rir = registry?;
    Some(AbuseContact {
        rule: ContactRule::Registry,
        emails: Vec::new(),
        handle: None,
        name: Some(rir.name().to_string()),
        roles: Vec::new(),
        path: Vec::new(),
        registry: Some(rir),
        explanation: format!(
            "{}; no entity has a mail address; the record was published by {} ({})",
            notes.join("; "),
            rir.name(),
            rir.website()
        ),
    })
}
