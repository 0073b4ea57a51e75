// «Cobros»: amounts per open invoice, then create and post the payment through the API.
(function () {
  "use strict";
  const form = document.getElementById("payment-form");
  const message = document.getElementById("message");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let amountTouched = false;

  function rows() {
    return Array.from(document.querySelectorAll("#open-invoices tbody tr[data-invoice]"));
  }

  function cents(value) {
    return Math.round(Number(value || 0) * 100);
  }

  function applications() {
    return rows()
      .map((row) => ({ invoice: Number(row.dataset.invoice), amount: row.querySelector("[data-field=amount]").value }))
      .filter((a) => cents(a.amount) > 0);
  }

  function show(text, cls) {
    message.textContent = text;
    message.className = cls;
  }

  function refresh() {
    const applied = applications().reduce((sum, a) => sum + cents(a.amount), 0);
    if (!amountTouched) form.amount.value = (applied / 100).toFixed(2);
    const advance = Math.max(cents(form.amount.value) - applied, 0);
    document.getElementById("applied").textContent = (applied / 100).toFixed(2);
    document.getElementById("advance").textContent = form.leave_advance.checked ? (advance / 100).toFixed(2) : "0.00";
  }

  async function api(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body || {}),
    });
    return { ok: response.ok, data: await response.json().catch(() => ({})) };
  }

  function payload() {
    return {
      company: Number(form.dataset.company), entity: Number(form.dataset.entity), customer: Number(form.dataset.customer),
      date: form.date.value, account: Number(form.account.value), amount: form.amount.value,
      exchange_rate: form.exchange_rate.value || "1", payment_form: form.payment_form.value,
      operation_number: form.operation_number.value, payer_bank_code: form.payer_bank_code.value, payer_bank_rfc: form.payer_bank_rfc.value,
      payer_account: form.payer_account.value, beneficiary_account: form.beneficiary_account.value,
      leave_advance: form.leave_advance.checked, applications: applications(),
    };
  }

  function render(preview) {
    const byInvoice = new Map(preview.documents.map((d) => [String(d.invoice), d]));
    for (const row of rows()) {
      const document_ = byInvoice.get(row.dataset.invoice);
      row.querySelectorAll("[data-show=installment],[data-show=remaining_balance]").forEach((cell) => {
        cell.textContent = document_ ? document_[cell.dataset.show] : "";
      });
    }
  }

  for (const row of rows()) {
    row.querySelector("[data-action=full]").addEventListener("click", () => {
      row.querySelector("[data-field=amount]").value = row.dataset.balance;
      refresh();
    });
  }
  form.amount.addEventListener("input", () => { amountTouched = true; refresh(); });
  form.addEventListener("input", refresh);
  form.addEventListener("change", refresh);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const accept = form.querySelector("#accept");
    accept.disabled = true;
    const created = await api("/api/sales/payments/", payload());
    if (!created.ok) {
      const detail = created.data.message || Object.values(created.data).flat().join(" ");
      show(detail || "No se pudo registrar el pago.", "error");
      accept.disabled = false;
      return;
    }
    const preview = await api(`/api/sales/payments/${created.data.id}/preview/`);
    if (preview.ok) render(preview.data);
    const posted = await api(`/api/sales/payments/${created.data.id}/post/`);
    if (!posted.ok) { show(posted.data.message || "El pago quedó en borrador.", "error"); return; }
    const advance = Number(posted.data.advance) > 0 ? `; anticipo ${posted.data.advance}` : "";
    show(`Pago ${posted.data.id} aplicado por ${posted.data.amount} ${posted.data.currency_code}${advance}.`, "ok");
  });
  refresh();
})();
