// 绩效目标申报表 editor: add rows (custom or from the library), reorder, remove, live weight total.
// Rows are posted as parallel lists (row-name, row-value, …) in table order, so no renumbering.
(function () {
  const form = document.getElementById("target-form");
  const body = document.getElementById("indicator-rows");
  const template = document.getElementById("row-template");
  if (!form || !body || !template) return;

  function changed() {
    const total = Array.from(body.querySelectorAll("input.weight"))
      .map((input) => parseFloat(input.value) || 0)
      .reduce((a, b) => a + b, 0);
    document.getElementById("weight-total").textContent = Math.round(total * 100) / 100;
    const hint = document.getElementById("no-rows-hint");
    if (hint) hint.style.display = body.children.length ? "none" : "";
    form.dispatchEvent(new Event("rows-changed"));
  }

  function filterLevel2(row) {
    const level1 = row.querySelector("select.level1").value;
    const level2 = row.querySelector("select.level2");
    let firstMatch = null;
    Array.from(level2.options).forEach((option) => {
      const match = option.dataset.parent === level1;
      option.hidden = !match;
      if (match && !firstMatch) firstMatch = option;
    });
    if (level2.selectedOptions[0] && level2.selectedOptions[0].hidden && firstMatch) level2.value = firstMatch.value;
  }

  function addRow(values) {
    const row = template.content.firstElementChild.cloneNode(true);
    const set = (name, value) => {
      const field = row.querySelector(`[name="row-${name}"]`);
      if (field && value !== undefined && value !== null) field.value = value;
    };
    values = values || {};
    set("level1", values.level1 || "output");
    filterLevel2(row);
    set("level2", values.level2);
    set("name", values.name || "");
    set("comparison", values.comparison || "ge");
    set("value", values.value || "");
    set("unit", values.unit || "");
    set("weight", values.weight || "");
    set("library_indicator_id", values.libraryId || "");
    if (values.lastYear) row.querySelector(".last-year-js").textContent = values.lastYear;
    body.appendChild(row);
    filterLevel2(row);
    changed();
    return row;
  }

  body.querySelectorAll("tr.indicator-row").forEach(filterLevel2);

  body.addEventListener("click", (event) => {
    const row = event.target.closest("tr.indicator-row");
    if (!row) return;
    if (event.target.closest(".remove-row")) row.remove();
    else if (event.target.closest(".move-up") && row.previousElementSibling) body.insertBefore(row, row.previousElementSibling);
    else if (event.target.closest(".move-down") && row.nextElementSibling) body.insertBefore(row.nextElementSibling, row);
    else return;
    changed();
  });
  body.addEventListener("change", (event) => {
    if (event.target.matches("select.level1")) filterLevel2(event.target.closest("tr"));
    if (event.target.matches("input.weight")) changed();
  });
  body.addEventListener("input", (event) => {
    if (event.target.matches("input.weight")) changed();
  });
  document.getElementById("add-custom-row").addEventListener("click", () => addRow({}).querySelector('[name="row-name"]').focus());
  document.getElementById("picker").addEventListener("click", (event) => {
    const button = event.target.closest(".add-library-row");
    if (!button) return;
    const d = button.dataset;
    addRow({ level1: d.level1, level2: d.level2, name: d.name, comparison: d.comparison, unit: d.unit,
             value: d.value, libraryId: d.libraryId, lastYear: d.lastYear });
    button.textContent = "已添加";
    button.disabled = true;
  });
  changed();
})();
