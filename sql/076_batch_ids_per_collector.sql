-- Batch ids are unique per collector, not globally: a batch whose id another collector already
-- used is stored, not acknowledged as a repeat and dropped. The constraint keeps its name
-- (ingested_batches_pkey), which is how ingest recognises a repeat.
ALTER TABLE ingested_batches DROP CONSTRAINT ingested_batches_pkey;
ALTER TABLE ingested_batches ADD CONSTRAINT ingested_batches_pkey PRIMARY KEY (collector_id, batch_id);
