# pip install requests; python3 quickstart.py
import os

import requests

base = os.environ.get("RELM_URL", "{{.URL}}")
relm = requests.Session()
relm.headers["Authorization"] = "Bearer " + os.environ["RELM_KEY"]

# Create a contact. Retrying with the same Idempotency-Key
# replays the first response instead of creating another.
res = relm.post(f"{base}/v1/contacts",
                json={"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
                headers={"Idempotency-Key": "create-ada-1"})
if not res.ok:
    err = res.json()["error"]
    raise SystemExit(f"{err['code']}: {err['message']}")
print(res.json()["id"])

# List contacts at example.com, 10 a page.
page = relm.get(f"{base}/v1/contacts",
                params={"filter[email][ilike]": "%@example.com", "limit": 10}).json()
print([c["email"] for c in page["data"]], page["has_more"], page["next_cursor"])
