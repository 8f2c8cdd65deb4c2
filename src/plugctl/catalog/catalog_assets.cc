#include "plugctl/catalog/catalog_assets.h"

#include <array>

#include "plugctl/oci/digest.h"

namespace plugctl::catalog {
namespace {

// Phone first: one column, nothing wider than the screen (long digests wrap, <pre> and tables
// scroll inside their own box); wider screens get a centred column.
constexpr std::string_view kCss = R"css(
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0 auto;max-width:72rem;padding:0 1rem 2rem;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","Microsoft YaHei",sans-serif;color:#1b1f24;background:#fff;overflow-wrap:anywhere}
a{color:#0a58ca}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 0;border-bottom:1px solid #d0d7de;margin-bottom:1rem}
header.top .home{font-weight:600;text-decoration:none;color:inherit}
form.search{display:flex;gap:.5rem;margin:0 0 1rem}
form.search input[type=search]{flex:1;min-width:0;padding:.5rem;font:inherit;border:1px solid #8c959f;border-radius:4px}
form.search button{padding:.5rem 1rem;font:inherit}
ul.plugins{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(18rem,1fr));gap:1rem}
li.plugin{border:1px solid #d0d7de;border-radius:6px;padding:.75rem;display:flex;gap:.75rem;min-width:0}
li.plugin>div{min-width:0}
li.plugin h2{font-size:1.1rem;margin:0}
.icon{width:40px;height:40px;flex:none;border-radius:4px}
.plugin-head{display:flex;gap:.75rem;align-items:center}
.plugin-head h1{margin:.5rem 0;min-width:0}
.icon.none{background:#eaeef2}
.meta{color:#57606a;font-size:.875rem}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.8rem;background:#eaeef2}
.badge.ok{background:#dafbe1;color:#116329}
.badge.bad{background:#ffebe9;color:#a40e26}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
pre{background:#f6f8fa;padding:.75rem;border-radius:6px;overflow-x:auto;white-space:pre;max-width:100%}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;min-width:0}
.table-wrap{overflow-x:auto;max-width:100%;margin:0 0 1rem}
table{border-collapse:collapse;font-size:.875rem;overflow-wrap:normal}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.path{white-space:nowrap}
td.description{min-width:16rem}
.readme img{max-width:100%}
.readme table{display:block;overflow-x:auto;max-width:100%}
ul.versions{padding-left:1.2rem}
.copy-button{display:block;margin:0 0 .25rem auto;font-size:.8rem}
.error{color:#a40e26}
[hidden]{display:none!important}
@media (max-width:40rem){
 body{padding:0 .5rem 1rem;font-size:15px}
 dl.facts{grid-template-columns:1fr}
 dl.facts dd{margin-bottom:.4rem}
 ul.plugins{grid-template-columns:1fr}
 table.schema,table.schema tbody,table.schema tr,table.schema td{display:block;width:100%}
 table.schema thead{display:none}
 table.schema tr{border:1px solid #d0d7de;border-radius:6px;margin:0 0 .75rem;padding:.25rem .5rem}
 table.schema td{border:none;padding:.15rem 0;min-width:0;white-space:normal;overflow-wrap:anywhere}
 table.schema td:empty{display:none}
 table.schema td::before{content:attr(data-label) ": ";font-weight:600;color:#57606a}
 table.schema td.path::before{content:none}
 table.schema td.path{font-weight:600}
}
)css";

// Progressive enhancement only: filtering as one types (the form also works without it) and
// copy buttons, which exist only when this runs.
constexpr std::string_view kJs = R"js(
(function () {
  'use strict';
  var search = document.getElementById('search');
  if (search) {
    var items = document.querySelectorAll('li.plugin');
    var filter = function () {
      var q = search.value.trim().toLowerCase();
      for (var i = 0; i < items.length; i++) {
        var text = items[i].getAttribute('data-search') || '';
        items[i].hidden = q !== '' && text.indexOf(q) < 0;
      }
    };
    search.addEventListener('input', filter);
  }
  var fallbackCopy = function (text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    document.body.appendChild(area);
    area.select();
    try { document.execCommand('copy'); } catch (e) {}
    document.body.removeChild(area);
    return Promise.resolve();
  };
  var blocks = document.querySelectorAll('pre.copy');
  for (var i = 0; i < blocks.length; i++) {
    (function (pre) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'copy-button';
      var label = pre.getAttribute('data-copy-label') || 'Copy';
      var done = pre.getAttribute('data-copied-label') || 'Copied';
      button.textContent = label;
      button.addEventListener('click', function () {
        var text = pre.textContent;
        var p = (navigator.clipboard && window.isSecureContext)
            ? navigator.clipboard.writeText(text) : fallbackCopy(text);
        p.then(function () {
          button.textContent = done;
          setTimeout(function () { button.textContent = label; }, 1500);
        }, function () { fallbackCopy(text); });
      });
      pre.parentNode.insertBefore(button, pre);
    })(blocks[i]);
  }
})();
)js";

struct Assets {
  std::array<Asset, 2> all;
};

const Assets& AllAssets() {
  static const Assets assets{{{
      Asset{"text/css; charset=utf-8", kCss, "\"" + oci::Digest::Of(kCss).hex() + "\""},
      Asset{"text/javascript; charset=utf-8", kJs, "\"" + oci::Digest::Of(kJs).hex() + "\""},
  }}};
  return assets;
}

}  // namespace

const Asset* FindAsset(std::string_view file) {
  const Assets& assets = AllAssets();
  if (file == "catalog.css") return &assets.all[0];
  if (file == "catalog.js") return &assets.all[1];
  return nullptr;
}

}  // namespace plugctl::catalog
