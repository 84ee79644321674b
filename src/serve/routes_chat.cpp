// POST /v1/chat/completions, OpenAI-compatible: every image_url part (data: URI) of the messages
// is one page; the text parts become the prompt (task "custom"), or task "document" without text.
// The answer is the pages' Markdown joined by blank lines; stream:true sends chat.completion.chunk
// events and `data: [DONE]`.
#include <httplib.h>

#include <chrono>

#include "core/error.h"
#include "image/io/decode.h"
#include "serve/digest.h"
#include "serve/http_error.h"
#include "serve/ocr_pipeline.h"
#include "serve/server_context.h"
#include "serve/sse.h"

namespace folio::serve {
namespace {

struct ChatRequest {
  std::vector<Image> images;
  OcrOptions options;
  bool stream = false;
  std::string model;
};

Image image_from_url(const std::string& url, size_t index, bool allow_remote) {
  std::string what = "messages image " + std::to_string(index + 1);
  if (url.rfind("data:", 0) != 0) {
    if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) {
      if (!allow_remote)
        throw invalid_input(what + ": remote image URLs are disabled; send the image as a data: URI "
                                   "(data:image/png;base64,...) or start the server with --allow-remote-images");
      throw invalid_input(what + ": fetching remote images is not implemented in this build; send a data: URI");
    }
    throw invalid_input(what + ": expected a data: URI (data:image/png;base64,...)");
  }
  size_t comma = url.find(',');
  if (comma == std::string::npos || url.substr(0, comma).find(";base64") == std::string::npos)
    throw invalid_input(what + ": the data: URI must be base64 (data:image/png;base64,...)");
  std::string bytes = base64_decode(std::string_view(url).substr(comma + 1), what);
  return decode_image(bytes, what);
}

ChatRequest parse_chat(const std::string& body, bool allow_remote) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw invalid_input("the body is not a JSON object");
  if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty())
    throw invalid_input("\"messages\" must be a non-empty array");
  ChatRequest chat;
  chat.stream = j.value("stream", false);
  chat.model = j.value("model", std::string());
  if (j.contains("max_tokens") && j["max_tokens"].is_number_integer()) chat.options.max_tokens = j["max_tokens"];
  std::string prompt;
  size_t image_count = 0;
  for (const auto& message : j["messages"]) {
    if (!message.is_object() || message.value("role", "") != "user") continue;
    const auto& content = message.contains("content") ? message["content"] : nlohmann::json();
    if (content.is_string()) {
      prompt += (prompt.empty() ? "" : "\n") + content.get<std::string>();
      continue;
    }
    if (!content.is_array()) throw invalid_input("message content must be a string or an array of parts");
    for (const auto& part : content) {
      std::string type = part.is_object() ? part.value("type", "") : "";
      if (type == "text") {
        prompt += (prompt.empty() ? "" : "\n") + part.value("text", "");
      } else if (type == "image_url") {
        const auto& image_url = part.contains("image_url") ? part["image_url"] : nlohmann::json();
        std::string url = image_url.is_string() ? image_url.get<std::string>()
                          : image_url.is_object() ? image_url.value("url", "") : "";
        chat.images.push_back(image_from_url(url, image_count++, allow_remote));
      } else {
        throw invalid_input("unsupported content part type \"" + type + "\" (expected text or image_url)");
      }
    }
  }
  if (chat.images.empty()) throw invalid_input("no image_url part in the user messages; this endpoint reads images");
  chat.options.task = prompt.empty() ? "document" : "custom";
  chat.options.prompt = prompt;
  chat.options.validate();
  return chat;
}

std::string openai_finish_reason(const std::string& reason) { return reason == "length" ? "length" : "stop"; }

std::string completion_id() {
  return "chatcmpl-" + sha256_hex(std::to_string(std::chrono::steady_clock::now().time_since_epoch().count())).substr(0, 24);
}

}  // namespace

void add_chat_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/v1/chat/completions", [&ctx](const httplib::Request& req, httplib::Response& res) {
    // Admission first: decoding images is the costly part of parsing.
    std::shared_ptr<Admission::Ticket> ticket = ctx.admission.enter();
    auto chat = std::make_shared<ChatRequest>(parse_chat(req.body, ctx.options.allow_remote_images));
    auto control = ctx.requests.start(ctx.request_timeout());
    std::string id = completion_id();
    long created = static_cast<long>(std::time(nullptr));
    std::string model = chat->model.empty() ? ctx.engine_info.engine : chat->model;

    auto run_all = [&ctx, chat, control](const PageSink& sink, std::string& finish, int& tokens) {
      std::string content;
      for (size_t i = 0; i < chat->images.size(); ++i) {
        nlohmann::json page = run_page(*ctx.engine, std::move(chat->images[i]), int(i), chat->options, &control->cancel, sink, &ctx.metrics);
        if (page["finish_reason"] == "error") throw internal_error("image " + std::to_string(i + 1) + ": " + page["error"].get<std::string>());
        if (page["finish_reason"] == "cancelled") throw unavailable("the request was cancelled (timeout or shutdown)");
        if (i > 0) content += "\n\n";
        content += page["markdown"].get<std::string>();
        finish = openai_finish_reason(page["finish_reason"]);
        tokens += page["timings"]["output_tokens"].get<int>();
      }
      return content;
    };

    if (!chat->stream) {
      ticket->wait_for_slot(control->deadline);
      std::string finish = "stop";
      int tokens = 0;
      std::string content = run_all({}, finish, tokens);
      nlohmann::json body = {
          {"id", id}, {"object", "chat.completion"}, {"created", created}, {"model", model},
          {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", finish}}}},
          {"usage", {{"prompt_tokens", 0}, {"completion_tokens", tokens}, {"total_tokens", tokens}}}};
      res.set_content(body.dump(), "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [ticket, control, run_all, id, created, model](size_t, httplib::DataSink& sink) {
      SseWriter sse(sink, [control] { control->cancel = true; });
      auto chunk = [&](nlohmann::json delta, nlohmann::json finish) {
        return nlohmann::json{{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
                              {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}}.dump();
      };
      try {
        ticket->wait_for_slot(control->deadline);
        sse.data(chunk({{"role", "assistant"}}, nullptr));
        int current = -1;  // the image whose tokens are streaming, to separate images by a blank line
        bool any_tokens = false;
        PageSink sink_out;
        sink_out.on_token = [&](int page, std::string_view text) {
          std::string piece = (page != current && current >= 0 ? "\n\n" : "") + std::string(text);
          current = page;
          any_tokens = true;
          sse.data(chunk({{"content", piece}}, nullptr));
        };
        std::string finish = "stop";
        int tokens = 0;
        std::string content = run_all(sink_out, finish, tokens);
        if (!any_tokens && !content.empty()) sse.data(chunk({{"content", content}}, nullptr));
        sse.data(chunk(nlohmann::json::object(), finish));
        sse.data("[DONE]");
      } catch (const Error& e) {
        sse.data(error_json(error_kind_name(e.kind()), e.what()));
      }
      sse.done();
      return true;
    });
  });
}

}  // namespace folio::serve
