//! RDAP for external sources: the rdap crate's cached client behind [`NetworkLookup`].
use std::net::IpAddr;

use abusedesk_rdap::{ClientConfig, RdapClient, RdapError};

use crate::pipeline::ExternalNetwork;
use crate::worker::{BoxFuture, NetworkLookup};

pub struct RdapLookup {
    client: RdapClient,
}

impl RdapLookup {
    /// A client using the IANA bootstrap table, or every query sent to `base_url`.
    pub fn new(base_url: Option<&str>, timeout: std::time::Duration) -> Result<Self, RdapError> {
        let mut config = match base_url {
            Some(base) => ClientConfig::with_base_url(base)?,
            None => ClientConfig::default(),
        };
        config.timeout = timeout;
        config.connect_timeout = timeout.min(config.connect_timeout);
        Ok(RdapLookup {
            client: RdapClient::new(config)?,
        })
    }
}

fn host_of(url: &str) -> String {
    url.split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(url)
        .split('/')
        .next()
        .unwrap_or(url)
        .to_owned()
}

impl NetworkLookup for RdapLookup {
    fn lookup(&self, ip: IpAddr) -> BoxFuture<'_, Result<ExternalNetwork, String>> {
        Box::pin(async move {
            let found = self.client.lookup_ip(ip).await.map_err(|e| e.to_string())?;
            let net = &found.network;
            let network = net
                .cidrs
                .iter()
                .find(|c| c.contains(&ip.to_canonical()))
                .or(net.cidrs.first())
                .map(ToString::to_string)
                .or_else(|| net.handle.clone())
                .unwrap_or_else(|| ip.to_string());
            Ok(ExternalNetwork {
                network,
                name: net.name.clone(),
                country: net.country.clone(),
                abuse_contact: net
                    .abuse_contact
                    .as_ref()
                    .and_then(|c| c.emails.first().cloned()),
                source: host_of(&found.url),
            })
        })
    }
}
