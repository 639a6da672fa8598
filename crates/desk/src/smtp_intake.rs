//! The SMTP intake listener: the desk's `abuse@` mailbox. A message is committed to the
//! store inside `on_message`; the engine sends `250` only after that returns `Ok`.
use std::sync::Arc;

use abusedesk_smtp::{Accepted, Handler, Message, Reply, SessionInfo};
use abusedesk_store::{Channel, ContentType, NewReport};

use crate::Clock;
use crate::intake::{Intake, IntakeError};
use crate::metrics::Metrics;

pub struct SmtpIntake {
    pub intake: Intake,
    pub metrics: Arc<Metrics>,
    pub clock: Arc<dyn Clock>,
}

fn reply(code: u16, enhanced: &str, text: &str) -> Reply {
    Reply::new(code, enhanced, text).unwrap_or_else(|_| Reply::temporary_failure(text))
}

impl Handler for SmtpIntake {
    async fn on_message(&self, session: &SessionInfo, message: Message) -> Result<Accepted, Reply> {
        if message.data.is_empty() {
            self.metrics.smtp_message(false);
            return Err(reply(
                554,
                "5.6.0",
                "Empty message: send the complaint with the offending mail's full headers",
            ));
        }
        let recipients: Vec<String> = message
            .envelope
            .recipients
            .iter()
            .map(|r| r.path.to_string())
            .collect();
        let report = NewReport {
            raw: message.data,
            channel: Channel::Smtp,
            content_type: ContentType::Rfc822,
            received_at: self.clock.now(),
            envelope_from: Some(message.envelope.mail_from.path.to_string()),
            envelope_to: Some(recipients.join(", ")),
            peer: Some(session.peer.to_string()),
            source_name: None,
        };
        match self.intake.submit(report).await {
            Ok(a) => {
                self.metrics.smtp_message(true);
                Ok(Accepted::with_id(format!("report {}", a.id)))
            }
            Err(e) => {
                self.metrics.smtp_message(false);
                Err(match e {
                    IntakeError::TooLarge { limit, .. } => {
                        self.metrics.too_large();
                        reply(
                            552,
                            "5.3.4",
                            &format!("Message too big: the limit is {limit} bytes"),
                        )
                    }
                    IntakeError::Unavailable => Reply::temporary_failure(
                        "Cannot store the message now; please try again later",
                    ),
                    IntakeError::ShuttingDown => {
                        reply(421, "4.3.2", "Shutting down; please try again later")
                    }
                })
            }
        }
    }
}
