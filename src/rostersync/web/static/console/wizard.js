// The field finder's Insert button: TABLE.field into the source field last selected.
(function () {
  let last = null;
  document.addEventListener("focusin", function (e) {
    if (e.target.classList && e.target.classList.contains("mapping-field")) { last = e.target; }
  });
  document.addEventListener("click", function (e) {
    const button = e.target.closest ? e.target.closest(".insert-field") : null;
    if (!button) { return; }
    const target = last || document.querySelector(".mapping-field");
    if (target) { target.value = button.dataset.insert; target.focus(); }
  });
})();
