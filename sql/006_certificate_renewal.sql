-- Certificate renewal: the previous certificate stays valid until the collector first uses the
-- new one, so a collector that crashes between the backend signing and its own save of the new
-- certificate is not locked out.
ALTER TABLE collectors ADD COLUMN prev_cert_fingerprint text;
