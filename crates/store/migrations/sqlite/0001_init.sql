-- abusedesk store schema, SQLite flavour. Keep in step with ../postgres/0001_init.sql:
-- same tables, columns and indexes; only the type names and the triggers differ.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    data        BLOB NOT NULL,
    stored_at   INTEGER NOT NULL
);

CREATE TABLE cases (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    kind               TEXT NOT NULL,
    target             TEXT NOT NULL,
    scope              TEXT NOT NULL,
    contract           TEXT,
    network            TEXT,
    country            TEXT,
    abuse_contact      TEXT,
    reason             TEXT NOT NULL,
    state              TEXT NOT NULL DEFAULT 'open',
    report_count       INTEGER NOT NULL DEFAULT 0,
    needs_full_headers BOOLEAN NOT NULL DEFAULT FALSE,
    first_report_at    INTEGER NOT NULL,
    last_report_at     INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    respond_by         INTEGER,
    resolve_by         INTEGER,
    closed_at          INTEGER
);
CREATE UNIQUE INDEX cases_open_target ON cases (kind, target) WHERE closed_at IS NULL;
CREATE INDEX cases_last_report ON cases (last_report_at, id);
CREATE INDEX cases_state_last_report ON cases (state, last_report_at, id);
CREATE INDEX cases_kind_last_report ON cases (kind, last_report_at, id);
CREATE INDEX cases_kind_state_last_report ON cases (kind, state, last_report_at, id);
CREATE INDEX cases_contract_last_report ON cases (contract, last_report_at, id);
CREATE INDEX cases_report_count ON cases (report_count, id);

CREATE TABLE case_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    at         INTEGER NOT NULL,
    type       TEXT NOT NULL,
    report_id  INTEGER,
    detail     TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- The event log is append-only.
CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;
CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events
BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END;

CREATE TABLE reports (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256         TEXT NOT NULL UNIQUE REFERENCES blobs (sha256),
    size           INTEGER NOT NULL,
    channel        TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    received_at    INTEGER NOT NULL,
    submissions    INTEGER NOT NULL DEFAULT 1,
    envelope_from  TEXT,
    envelope_to    TEXT,
    peer           TEXT,
    source_name    TEXT,
    status         TEXT NOT NULL DEFAULT 'queued',
    format         TEXT,
    kind           TEXT,
    reporter       TEXT,
    source_ip      TEXT,
    source_port    INTEGER,
    event_time     INTEGER,
    origin_time    INTEGER,
    time_basis     TEXT,
    scope          TEXT,
    contract       TEXT,
    network        TEXT,
    country        TEXT,
    abuse_contact  TEXT,
    reason         TEXT,
    case_id        INTEGER REFERENCES cases (id),
    error          TEXT,
    detail         TEXT,
    processed_at   INTEGER
);
CREATE INDEX reports_status ON reports (status, id);
CREATE INDEX reports_kind ON reports (kind, id);
CREATE INDEX reports_case ON reports (case_id, id);
CREATE INDEX reports_source_ip ON reports (source_ip, id);
CREATE INDEX reports_contract ON reports (contract, id);

CREATE TABLE jobs (
    report_id     INTEGER PRIMARY KEY REFERENCES reports (id),
    available_at  INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    claim         TEXT,
    locked_until  INTEGER,
    last_error    TEXT
);
CREATE INDEX jobs_available ON jobs (available_at, report_id);

-- The network registry. Each row keeps the registry crate's JSON record (`doc`, the
-- same field names as the CSV columns) beside the columns the store itself needs for
-- lookups and reference checks; the registry crate parses and validates the documents.
CREATE TABLE contracts (
    id          TEXT PRIMARY KEY,
    parent      TEXT,
    doc         TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX contracts_parent ON contracts (parent);

CREATE TABLE assignments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    contract    TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    doc         TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX assignments_contract ON assignments (contract, id);

CREATE TABLE hosted_domains (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    domain      TEXT NOT NULL,
    contract    TEXT NOT NULL,
    doc         TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX hosted_domains_contract ON hosted_domains (contract, id);
CREATE INDEX hosted_domains_domain ON hosted_domains (domain);

CREATE TABLE networks (
    prefix      TEXT PRIMARY KEY,
    doc         TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('registry_version', 0);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    hint          TEXT NOT NULL,
    hash          TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    revoked_at    INTEGER
);
