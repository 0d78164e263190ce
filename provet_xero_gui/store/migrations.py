"""The schema, as the steps that bring a store from nothing to the current version."""

from __future__ import annotations

# Each entry moves the schema one version forward. Never edit a released step; add a new one.
MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema
    """
    CREATE TABLE links (
        kind TEXT NOT NULL,              -- contact | invoice | credit_note | payment | ...
        provet_id TEXT NOT NULL,
        xero_id TEXT NOT NULL,
        xero_number TEXT,                -- InvoiceNumber / ContactNumber / payment Reference
        fingerprint TEXT,                -- hash of what was last sent, to see a change
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, provet_id)
    );
    CREATE UNIQUE INDEX links_xero ON links (kind, xero_id);

    CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );

    CREATE TABLE journal (
        id INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        endpoint TEXT NOT NULL,          -- e.g. "PUT Invoices"
        payload TEXT NOT NULL,           -- the JSON body that is (to be) sent
        documents TEXT NOT NULL,         -- JSON list of the Provet ids in the batch
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
        result TEXT,
        created_at TEXT NOT NULL,
        finished_at TEXT
    );
    CREATE INDEX journal_pending ON journal (state) WHERE state = 'pending';

    CREATE TABLE attention (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        provet_id TEXT NOT NULL,
        document TEXT NOT NULL,          -- what a person calls it, e.g. "Invoice INV-1042"
        cause TEXT NOT NULL,             -- a stable code to group by, e.g. "vat_group_unmapped"
        reason TEXT NOT NULL,            -- plain words
        fix TEXT NOT NULL,               -- what to do about it
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (kind, provet_id, cause)
    );

    CREATE TABLE client_fields (
        provet_client_id TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT,                      -- the value both sides had after the last sync
        synced_at TEXT NOT NULL,
        PRIMARY KEY (provet_client_id, field)
    );

    CREATE TABLE conflicts (
        id INTEGER PRIMARY KEY,
        provet_client_id TEXT NOT NULL,
        xero_contact_id TEXT NOT NULL,
        field TEXT NOT NULL,
        base_value TEXT,
        provet_value TEXT,
        xero_value TEXT,
        provet_changed_at TEXT,
        xero_changed_at TEXT,
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        resolution TEXT                  -- provet | xero | a value chosen by hand
    );
    CREATE UNIQUE INDEX conflicts_open ON conflicts (provet_client_id, field) WHERE resolved_at IS NULL;

    CREATE TABLE log (
        id INTEGER PRIMARY KEY,
        ts TEXT NOT NULL,
        level TEXT NOT NULL,
        event TEXT NOT NULL,
        message TEXT NOT NULL,
        document_kind TEXT,
        document_id TEXT
    );
    CREATE INDEX log_ts ON log (ts);
    """,
    # 2: everything kept belongs to one Xero organisation and one Provet instance (a binding); links, cursors,
    # cached reference data, the journal, attention items, client bases and conflicts carry their binding.
    # What an older store holds belongs to the organisation chosen when it is first used (claimed then).
    """
    CREATE TABLE bindings (
        id INTEGER PRIMARY KEY,
        xero_tenant_id TEXT,             -- NULL until claimed by the organisation chosen in the settings
        xero_tenant_name TEXT,
        provet_url TEXT,
        start_date TEXT,                 -- YYYY-MM-DD: nothing older is sent to this organisation
        active INTEGER NOT NULL DEFAULT 0,
        rebuild_reason TEXT,             -- not NULL: links are rebuilt from Xero before anything is written
        rebuilt_at TEXT,
        rebuilt TEXT,                    -- JSON: links rebuilt by kind, and why
        created_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX bindings_active ON bindings (active) WHERE active = 1;
    INSERT INTO bindings (id, active, rebuild_reason, created_at)
        VALUES (1, 1, CASE WHEN EXISTS (SELECT 1 FROM links) THEN NULL ELSE 'new' END,
                strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'));

    DROP INDEX links_xero;
    ALTER TABLE links RENAME TO links_v1;
    CREATE TABLE links (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        kind TEXT NOT NULL,
        provet_id TEXT NOT NULL,
        xero_id TEXT NOT NULL,
        xero_number TEXT,
        fingerprint TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (scope, kind, provet_id)
    );
    CREATE UNIQUE INDEX links_xero ON links (scope, kind, xero_id);
    INSERT INTO links (scope, kind, provet_id, xero_id, xero_number, fingerprint, created_at, updated_at)
        SELECT 1, kind, provet_id, xero_id, xero_number, fingerprint, created_at, updated_at FROM links_v1;
    DROP TABLE links_v1;

    ALTER TABLE cursors RENAME TO cursors_v1;
    CREATE TABLE cursors (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        name TEXT NOT NULL,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (scope, name)
    );
    INSERT INTO cursors (scope, name, value, updated_at) SELECT 1, name, value, updated_at FROM cursors_v1;
    DROP TABLE cursors_v1;

    ALTER TABLE attention RENAME TO attention_v1;
    CREATE TABLE attention (
        id INTEGER PRIMARY KEY,
        scope INTEGER NOT NULL REFERENCES bindings (id),
        kind TEXT NOT NULL,
        provet_id TEXT NOT NULL,
        document TEXT NOT NULL,
        cause TEXT NOT NULL,
        reason TEXT NOT NULL,
        fix TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (scope, kind, provet_id, cause)
    );
    INSERT INTO attention (id, scope, kind, provet_id, document, cause, reason, fix, state, created_at, updated_at)
        SELECT id, 1, kind, provet_id, document, cause, reason, fix, state, created_at, updated_at FROM attention_v1;
    DROP TABLE attention_v1;

    ALTER TABLE client_fields RENAME TO client_fields_v1;
    CREATE TABLE client_fields (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        provet_client_id TEXT NOT NULL,
        field TEXT NOT NULL,
        value TEXT,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (scope, provet_client_id, field)
    );
    INSERT INTO client_fields (scope, provet_client_id, field, value, synced_at)
        SELECT 1, provet_client_id, field, value, synced_at FROM client_fields_v1;
    DROP TABLE client_fields_v1;

    DROP INDEX conflicts_open;
    ALTER TABLE conflicts ADD COLUMN scope INTEGER NOT NULL DEFAULT 1;
    CREATE UNIQUE INDEX conflicts_open ON conflicts (scope, provet_client_id, field) WHERE resolved_at IS NULL;

    ALTER TABLE journal ADD COLUMN scope INTEGER NOT NULL DEFAULT 1;
    """,
    # 3: credit note allocations and what was sent of each document get tables of their own. They were links of
    # kinds `allocation_due` (what is due, as JSON in `fingerprint`) and `allocation` (xero_id "<credit note id>:
    # <invoice id>", or "none:<credit note>" for one left unallocated on purpose), and the tie-out read what was
    # sent from the journal's payloads: those become rows of the new tables, and the links go.
    """
    CREATE TABLE allocations (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        credit_note TEXT NOT NULL,       -- Provet id of the credit note
        original TEXT,                   -- Provet id of the invoice it credits (NULL: found in Xero by a rebuild)
        total TEXT,                      -- the credit note's total: the most it can allocate
        date TEXT,                       -- the credit note's date, YYYY-MM-DD
        label TEXT,                      -- what a person calls the credit note
        state TEXT NOT NULL CHECK (state IN ('due', 'done', 'skipped')),
        xero_credit_note_id TEXT,        -- done: the allocation in Xero
        xero_invoice_id TEXT,
        amount TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (scope, credit_note)
    );
    CREATE INDEX allocations_invoice ON allocations (scope, xero_invoice_id) WHERE state = 'done';
    CREATE INDEX allocations_due ON allocations (scope) WHERE state = 'due';

    INSERT INTO allocations (scope, credit_note, original, total, date, label, state, created_at, updated_at)
        SELECT scope, provet_id, json_extract(fingerprint, '$.original'), json_extract(fingerprint, '$.total'),
               json_extract(fingerprint, '$.date'), json_extract(fingerprint, '$.label'), 'due', created_at, updated_at
        FROM links WHERE kind = 'allocation_due' AND json_valid(fingerprint);
    INSERT INTO allocations (scope, credit_note, state, xero_credit_note_id, xero_invoice_id, amount, created_at,
                             updated_at)
        SELECT scope, provet_id,
               CASE WHEN xero_id LIKE 'none:%' THEN 'skipped' ELSE 'done' END,
               CASE WHEN xero_id LIKE 'none:%' THEN NULL ELSE substr(xero_id, 1, instr(xero_id, ':') - 1) END,
               CASE WHEN xero_id LIKE 'none:%' THEN NULL ELSE substr(xero_id, instr(xero_id, ':') + 1) END,
               CASE WHEN xero_id LIKE 'none:%' THEN NULL ELSE fingerprint END,
               created_at, updated_at
        FROM links WHERE kind = 'allocation'
        ON CONFLICT (scope, credit_note) DO UPDATE SET state = excluded.state,
            xero_credit_note_id = excluded.xero_credit_note_id, xero_invoice_id = excluded.xero_invoice_id,
            amount = excluded.amount, updated_at = excluded.updated_at;
    DELETE FROM links WHERE kind IN ('allocation', 'allocation_due');

    CREATE TABLE sent_documents (
        scope INTEGER NOT NULL REFERENCES bindings (id),
        kind TEXT NOT NULL,              -- invoice | credit_note
        provet_id TEXT NOT NULL,
        journal_id INTEGER NOT NULL REFERENCES journal (id),  -- the newest finished write that sent it
        number TEXT,
        total TEXT NOT NULL,             -- Provet's total as sent (a credit note's with a plus sign)
        date TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (scope, provet_id)
    );
    CREATE TABLE sent_lines (
        scope INTEGER NOT NULL,
        provet_id TEXT NOT NULL,
        line INTEGER NOT NULL,           -- its place in the document as sent, from 0
        account_code TEXT,
        tax_type TEXT,
        quantity TEXT,
        unit_amount TEXT,
        discount_rate TEXT,              -- NULL: not sent
        tax_amount TEXT,                 -- NULL: not sent (Xero worked it out)
        PRIMARY KEY (scope, provet_id, line),
        FOREIGN KEY (scope, provet_id) REFERENCES sent_documents (scope, provet_id)
    );

    CREATE TEMPORARY TABLE sent_v2 AS
        SELECT j.scope AS scope, j.id AS journal_id, d.key AS position,
               json_extract(d.value, '$.kind') AS kind, CAST(json_extract(d.value, '$.provet_id') AS TEXT) AS provet_id,
               json_extract(d.value, '$.number') AS number, json_extract(d.value, '$.total') AS total,
               COALESCE(NULLIF(json_extract(d.value, '$.date'), ''), json_extract(p.value, '$.Date'), '') AS date,
               p.value AS body, COALESCE(j.finished_at, j.created_at) AS sent_at
        FROM journal j, json_each(j.documents) d, json_each(j.payload) p
        WHERE j.state = 'done' AND json_valid(j.documents) AND json_valid(j.payload)
              AND json_type(j.payload) = 'array' AND p.key = d.key AND json_type(p.value) = 'object'
              AND json_type(d.value) = 'object' AND json_extract(d.value, '$.kind') IN ('invoice', 'credit_note')
              AND json_extract(d.value, '$.total') IS NOT NULL;
    INSERT INTO sent_documents (scope, kind, provet_id, journal_id, number, total, date, sent_at)
        SELECT scope, kind, provet_id, journal_id, number, total, date, sent_at FROM sent_v2 s
        WHERE journal_id = (SELECT MAX(journal_id) FROM sent_v2 n WHERE n.scope = s.scope AND n.provet_id = s.provet_id)
        GROUP BY scope, provet_id;
    INSERT OR REPLACE INTO sent_lines (scope, provet_id, line, account_code, tax_type, quantity, unit_amount,
                                       discount_rate, tax_amount)
        SELECT s.scope, s.provet_id, l.key, json_extract(l.value, '$.AccountCode'), json_extract(l.value, '$.TaxType'),
               json_extract(l.value, '$.Quantity'), json_extract(l.value, '$.UnitAmount'),
               json_extract(l.value, '$.DiscountRate'), json_extract(l.value, '$.TaxAmount')
        FROM sent_documents d JOIN sent_v2 s ON s.scope = d.scope AND s.provet_id = d.provet_id
             AND s.journal_id = d.journal_id, json_each(s.body, '$.LineItems') l
        WHERE json_type(l.value) = 'object';
    DROP TABLE sent_v2;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
