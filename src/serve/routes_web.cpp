// The web page: the built files of web/ (index.html + assets) when --web-dir holds them, else a
// short page saying how to build it, so `folio serve` always answers at "/".
#include <httplib.h>

#include <filesystem>

#include "serve/server_context.h"

namespace folio::serve {
namespace {

const char* kNotBuiltPage = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>folio</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:3rem auto;padding:0 1rem}
code,pre{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}</style></head>
<body><h1>folio is running</h1>
<p>The web page has not been built, so this placeholder is shown instead. Build it with:</p>
<pre>cd web &amp;&amp; npm ci &amp;&amp; npm run build</pre>
<p>then restart <code>folio serve</code> (or point <code>--web-dir</code> at a folder holding <code>index.html</code>).</p>
<p>The API works already: <code>curl -F file=@scan.pdf http://HOST/v1/ocr</code>,
<a href="/health">/health</a>, <a href="/metrics">/metrics</a>.</p>
</body></html>
)";

}  // namespace

void add_web_routes(httplib::Server& http, ServerContext& ctx) {
  const std::string& dir = ctx.options.web_dir;
  if (!dir.empty() && std::filesystem::exists(std::filesystem::path(dir) / "index.html") && http.set_mount_point("/", dir))
    return;
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content(kNotBuiltPage, "text/html; charset=utf-8"); });
}

}  // namespace folio::serve
