package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/relmcrm/relm/tools"
)

var (
	_ = page("GET /webhooks", (*Dashboard).webhooksPage)
	_ = page("POST /webhooks", (*Dashboard).createWebhook)
	_ = page("POST /webhooks/rotate", (*Dashboard).rotateWebhookSecret)
	_ = page("GET /webhooks/deliveries/{id}", (*Dashboard).deliveryPage)
)

// webhooksPage lists the endpoints and their recent deliveries.
func (d *Dashboard) webhooksPage(w http.ResponseWriter, r *http.Request, v *visit) {
	d.showWebhooks(w, r, v, nil)
}

// showWebhooks renders the webhooks page; secret is an endpoint just created or rotated,
// whose signing secret is shown this once.
func (d *Dashboard) showWebhooks(w http.ResponseWriter, r *http.Request, v *visit, secret map[string]any) {
	list, err := d.call(r, v, "list_webhooks", map[string]any{"limit": json.Number("200")})
	endpoints := listData(list)
	data := map[string]any{"Endpoints": endpoints, "New": secret, "Manage": v.canManage(),
		"Deliveries": d.deliveries(r, v, endpoints)}
	if err != nil {
		data["Error"] = errorText(err)
	}
	if secret != nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	d.render(w, r, v, "webhooks", "Webhooks", data)
}

// createWebhook makes an endpoint from the form and shows its signing secret once.
func (d *Dashboard) createWebhook(w http.ResponseWriter, r *http.Request, v *visit) {
	e, _ := d.reg.Lookup("create_webhook")
	args, ferr := formArgs(e, r)
	if ferr != nil {
		d.redirect(w, r, "/webhooks", flash{Error: true, Text: ferr.Error()})
		return
	}
	created, err := d.call(r, v, "create_webhook", args)
	if err != nil {
		d.redirect(w, r, "/webhooks", flash{Error: true, Text: errorText(err)})
		return
	}
	d.showWebhooks(w, r, v, created)
}

// rotateWebhookSecret gives an endpoint a new signing secret and shows it once.
func (d *Dashboard) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, v *visit) {
	rotated, err := d.call(r, v, "rotate_webhook_secret", map[string]any{"id": r.PostFormValue("id")})
	if err != nil {
		d.redirect(w, r, "/webhooks", flash{Error: true, Text: errorText(err)})
		return
	}
	rotated["rotated"] = true
	d.showWebhooks(w, r, v, rotated)
}

// deliveryPage shows one delivery with every attempt, and a button to replay it. The
// endpoint query parameter names its endpoint; without it the endpoints are searched.
func (d *Dashboard) deliveryPage(w http.ResponseWriter, r *http.Request, v *visit) {
	id := r.PathValue("id")
	endpoint := r.URL.Query().Get("endpoint")
	var delivery map[string]any
	var err *tools.Error
	if endpoint != "" {
		delivery, err = d.call(r, v, "get_webhook_delivery", map[string]any{"id": endpoint, "delivery_id": id})
	} else {
		delivery, err = d.findDelivery(r, v, id)
	}
	if err != nil {
		d.renderStatus(w, r, v, errStatus(err), "webhooks", "Webhook delivery", map[string]any{"Detail": true, "Error": errorText(err)})
		return
	}
	endpoint, _ = delivery["endpoint_id"].(string)
	hook, _ := d.call(r, v, "get_webhook", map[string]any{"id": endpoint})
	// A replay leaves the status as it was: the page awaits the attempt it asked for.
	count, _ := strconv.Atoi(str(delivery["attempt_count"]))
	awaiting, _ := strconv.Atoi(r.URL.Query().Get("awaiting"))
	self := "/webhooks/deliveries/" + url.PathEscape(id) + "?endpoint=" + url.QueryEscape(endpoint)
	d.render(w, r, v, "webhooks", "Webhook delivery", map[string]any{"Detail": true, "Delivery": delivery, "Endpoint": hook,
		"Pending": isPending(delivery) || count < awaiting, "Manage": v.canManage(),
		"Back": self + "&awaiting=" + strconv.Itoa(count+1)})
}

// findDelivery looks for delivery id under each endpoint (a workspace has at most 20 per mode).
func (d *Dashboard) findDelivery(r *http.Request, v *visit, id string) (map[string]any, *tools.Error) {
	list, err := d.call(r, v, "list_webhooks", map[string]any{"limit": json.Number("200")})
	if err != nil {
		return nil, err
	}
	for _, ep := range listData(list) {
		if got, err := d.call(r, v, "get_webhook_delivery", map[string]any{"id": ep["id"], "delivery_id": id}); err == nil {
			return got, nil
		}
	}
	return nil, tools.NewError(tools.CodeNotFound, "There is no delivery %s in this workspace and mode.", id)
}
