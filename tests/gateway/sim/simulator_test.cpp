#include "gateway/sim/simulator.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

namespace gw::sim {
namespace {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

struct Reply {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};

// A plain blocking client: the simulator is tested over a real socket, as the gateway uses it.
Reply request(uint16_t port, http::verb verb, std::string_view target, std::string body = "") {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::authorization, "Bearer sk-test");
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return Reply{res.result_int(), std::string(res[http::field::content_type]), res.body()};
}

std::string chat_body(std::string_view content, bool stream) {
  nlohmann::json j = {{"model", "phi-4-mini"},
                      {"messages", {{{"role", "user"}, {"content", content}}}},
                      {"stream", stream}};
  if (stream) j["stream_options"] = {{"include_usage", true}};
  return j.dump();
}

class SimulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.threads = 2;
    options.models = {parse_profile("phi-4-mini:answer_tokens=12"), parse_profile("gpt-oss-20b")};
    sim_ = std::make_unique<Simulator>(options);
    port_ = sim_->start();
    ASSERT_NE(port_, 0);
  }
  std::unique_ptr<Simulator> sim_;
  uint16_t port_ = 0;
};

TEST_F(SimulatorTest, NonStreamCompletionIsDeterministic) {
  const Reply a = request(port_, http::verb::post, "/v1/chat/completions", chat_body("hi", false));
  ASSERT_EQ(a.status, 200u) << a.body;
  const auto j = nlohmann::json::parse(a.body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["model"], "phi-4-mini");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["completion_tokens"], 12);
  const Reply b = request(port_, http::verb::post, "/v1/chat/completions", chat_body("hi", false));
  EXPECT_EQ(nlohmann::json::parse(b.body)["choices"], j["choices"]);

  const auto last =
      nlohmann::json::parse(request(port_, http::verb::get, "/sim/last_request").body);
  EXPECT_EQ(last["authorization"], "Bearer sk-test");
  EXPECT_EQ(last["path"], "/v1/chat/completions");
  EXPECT_EQ(nlohmann::json::parse(last["body"].get<std::string>())["model"], "phi-4-mini");
}

TEST_F(SimulatorTest, StreamEndsWithUsageThenDone) {
  const Reply r = request(port_, http::verb::post, "/v1/chat/completions", chat_body("hi", true));
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/event-stream");
  const std::string done = "data: [DONE]\n\n";
  ASSERT_GE(r.body.size(), done.size());
  EXPECT_EQ(r.body.substr(r.body.size() - done.size()), done);
  EXPECT_NE(r.body.find("\"delta\":{\"role\":\"assistant\""), std::string::npos);
  EXPECT_NE(r.body.find("\"finish_reason\":\"stop\""), std::string::npos);
  EXPECT_NE(r.body.find("\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":12"),
            std::string::npos);
}

TEST_F(SimulatorTest, ErrorDirectiveAndUnknownModel) {
  const Reply err = request(port_, http::verb::post, "/v1/chat/completions",
                            chat_body("x [sim:error=503]", false));
  EXPECT_EQ(err.status, 503u);
  EXPECT_EQ(nlohmann::json::parse(err.body)["error"]["message"], "simulated upstream error");

  const Reply unknown = request(port_, http::verb::post, "/v1/chat/completions",
                                R"({"model":"nope","messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(unknown.status, 404u);
  EXPECT_EQ(nlohmann::json::parse(unknown.body)["error"]["code"], "model_not_found");
  EXPECT_EQ(request(port_, http::verb::post, "/v1/chat/completions", "{").status, 400u);
}

TEST_F(SimulatorTest, ClientLeavingAStallCountsAsAborted) {
  {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
    req.body() = chat_body("[sim:stall]", false);
    req.prepare_payload();
    http::write(socket, req);
  }  // the socket closes here
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sim_->stats().aborted_streams == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(sim_->stats().aborted_streams, 1u);
  const auto stats = nlohmann::json::parse(request(port_, http::verb::get, "/sim/stats").body);
  EXPECT_EQ(stats["aborted_streams"], 1);
}

TEST_F(SimulatorTest, StopEndsStalledConnections) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  http::request<http::string_body> req{http::verb::post, "/v1/chat/completions", 11};
  req.body() = chat_body("[sim:stall_after=1]", true);
  req.prepare_payload();
  http::write(socket, req);
  char byte = 0;
  net::read(socket, net::buffer(&byte, 1));  // the stream has started
  sim_->stop();
  boost::beast::flat_buffer buffer;
  boost::system::error_code ec;
  http::response<http::string_body> res;
  http::read(socket, buffer, res, ec);
  EXPECT_TRUE(ec) << "a stalled stream must not complete";
}

TEST_F(SimulatorTest, ModelsListsProfiles) {
  const auto j = nlohmann::json::parse(request(port_, http::verb::get, "/v1/models").body);
  ASSERT_EQ(j["data"].size(), 2u);
  EXPECT_EQ(j["data"][1]["id"], "gpt-oss-20b");
  EXPECT_EQ(request(port_, http::verb::get, "/healthz").status, 200u);
}

}  // namespace
}  // namespace gw::sim
