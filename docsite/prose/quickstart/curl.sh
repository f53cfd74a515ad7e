export RELM_URL={{.URL}}
export RELM_KEY=sk_test_…   # relm keys create --workspace default --mode test

# Create a contact. Retrying with the same Idempotency-Key
# replays the first response instead of creating another.
curl -s -X POST "$RELM_URL/v1/contacts" \
  -H "Authorization: Bearer $RELM_KEY" \
  -H "Content-Type: application/json" \
  -H "Idempotency-Key: create-ada-1" \
  -d '{"email":"ada@example.com","first_name":"Ada","last_name":"Lovelace"}'

# List contacts at example.com, 10 a page (-g keeps the brackets).
curl -s -g "$RELM_URL/v1/contacts?filter[email][ilike]=%25@example.com&limit=10" \
  -H "Authorization: Bearer $RELM_KEY"
