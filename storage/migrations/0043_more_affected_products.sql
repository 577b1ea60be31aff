-- Schema 43: a vulnerability may affect several products. The first stays in vendor, product and
-- product_id; the further ones are a JSON list of {vendor, product, product_id} (like remediations and
-- notes, migration 0026). Existing records affect no further product. Exchange baselines gain the
-- empty list too, so the next export is not counted as a change and the next three-way merge
-- compares like with like.
ALTER TABLE vulnerabilities ADD COLUMN more_products TEXT NOT NULL DEFAULT '[]';
UPDATE vulnerabilities SET exchange_baseline = json_set(exchange_baseline, '$.more_products', json_array())
WHERE exchange_baseline IS NOT NULL AND json_type(exchange_baseline, '$.more_products') IS NULL;
