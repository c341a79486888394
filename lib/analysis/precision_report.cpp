// The precision report as JSON (docs/report-schema.md) and as one self-contained HTML page,
// and writing both (with the dumps) into place through a temporary folder.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "libquant/analysis.hpp"

namespace lq {

namespace {

namespace fs = std::filesystem;

constexpr int kSchemaVersion = 1;

// JSON has no infinity: an exact tensor's SNR is written as 999.
double finite(double x) { return std::isfinite(x) ? std::min(x, 999.0) : (x > 0 ? 999.0 : -999.0); }

nlohmann::json figures_json(const ErrorFigures& f) {
  return {{"snr_db", finite(f.snr_db)}, {"cosine", finite(f.cosine)}, {"max_abs_error", finite(f.max_abs)},
          {"relative_error", finite(f.relative)}};
}

nlohmann::json tensor_json(const TensorAnalysis& t) {
  nlohmann::json j = {
      {"node", t.node},
      {"tensor", t.tensor},
      {"op_type", t.op_type},
      {"kind", t.weight ? "weight" : "activation"},
      {"dtype", dtype_name(t.params.dtype)},
      {"per_channel", t.params.per_channel()},
      {"method", t.params.method},
      {"range", {t.params.range.min, t.params.range.max}},
      {"elements", t.elements},
      {"macs", t.macs},
      {"isolated", figures_json(t.isolated)},
      {"cumulative", t.cumulative ? figures_json(*t.cumulative) : nlohmann::json()},
      {"clipped_share", t.clipped_share},
      {"readers_saturate", t.readers_saturate},
      {"histogram", {{"min", t.histogram_min}, {"max", t.histogram_max}, {"counts", t.histogram}}},
  };
  if (t.weight) j["channel_spread"] = finite(t.channel_spread);
  if (t.sensitivity_snr_db) j["sensitivity"] = {{"output_snr_db_only_this", finite(*t.sensitivity_snr_db)},
                                                {"int16_gain_db", finite(t.int16_gain_db.value_or(0))},
                                                {"int16_gain_integer_db", t.int16_gain_integer_db
                                                                              ? nlohmann::json(finite(*t.int16_gain_integer_db))
                                                                              : nlohmann::json()}};
  return j;
}

const char* kHtml = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>libquant precision report</title>
<style>
body{font-family:system-ui,sans-serif;margin:20px;color:#222;max-width:1240px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}
#table{overflow-x:auto}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f0f0f0;cursor:pointer;user-select:none}td.l,th.l{text-align:left}
.bad{background:#fdd}.sat{color:#888}.warn{background:#ffe9c0}.hist{display:inline-block;margin:6px;font-size:11px;width:290px;vertical-align:top}
li{margin:4px 0}code{background:#f4f4f4;padding:0 3px}.legend span{margin-right:16px}
</style></head><body>
<h1>libquant precision report</h1>
<p id="summary"></p>
<h2>Model outputs (fixed-point program against float)</h2><div id="outputs"></div>
<h2>Suggestions</h2><ol id="suggestions"></ol>
<h2>SNR along the graph</h2>
<p class="legend"><span style="color:#c0392b">&#9632; cumulative (fixed-point program)</span><span style="color:#2e86c1">&#9632; isolated (this tensor alone)</span></p>
<div id="chart"></div>
<h2>Offenders (click a column to sort)</h2><div id="table"></div>
<h2>Histograms (float values; red lines: the chosen clip range)</h2><div id="hists"></div>
<script type="application/json" id="report-data">@DATA@</script>
<script>
(function(){
var R=JSON.parse(document.getElementById('report-data').textContent);
var NS='http://www.w3.org/2000/svg';
function el(tag,attrs,parent,ns){var e=ns?document.createElementNS(NS,tag):document.createElement(tag);
 for(var k in attrs)if(k==='text')e.textContent=attrs[k];else e.setAttribute(k,attrs[k]);if(parent)parent.appendChild(e);return e;}
function f(x,d){return x===null||x===undefined?'':Number(x).toFixed(d===undefined?2:d);}
document.getElementById('summary').textContent=(R.model||'model')+': '+R.tensors.length+' quantized tensors measured over '+R.samples+' samples; analysis took '+f(R.seconds,2)+' s.'+(R.estimate?' Estimate on '+R.estimate.target+': '+R.estimate.macs+' MACs, '+f(R.estimate.latency_ms,3)+' ms, '+f(R.estimate.fps,1)+' FPS.':'');
var ot=el('table',{},document.getElementById('outputs'));var h=el('tr',{},ot);
['output','SNR dB','cosine','max abs error','relative error','fake-quant SNR dB'].forEach(function(c){el('th',{text:c},h);});
Object.keys(R.outputs).forEach(function(k){var o=R.outputs[k],r=el('tr',{},ot);el('td',{'class':'l',text:k},r);
 el('td',{text:f(o.snr_db)},r);el('td',{text:f(o.cosine,5)},r);el('td',{text:f(o.max_abs_error,4)},r);el('td',{text:o.relative_error.toExponential(2)},r);
 el('td',{text:R.fake_quant_output_snr_db&&k in R.fake_quant_output_snr_db?f(R.fake_quant_output_snr_db[k]):'(--sensitivity)'},r);});
var sl=document.getElementById('suggestions');
if(!R.suggestions.length)el('li',{text:'none: every tensor keeps more than 30 dB in isolation'},sl);
R.suggestions.forEach(function(s){var li=el('li',{},sl);s.split('`').forEach(function(p,i){if(i%2)el('code',{text:p},li);else li.appendChild(document.createTextNode(p));});});
var acts=R.tensors.filter(function(t){return t.kind==='activation';});
var W=1200,H=320,L=50,B=30,svg=el('svg',{width:W,height:H,viewBox:'0 0 '+W+' '+H,id:'snr-chart'},document.getElementById('chart'),1);
var vals=[];acts.forEach(function(t){vals.push(t.isolated.snr_db);if(t.cumulative)vals.push(t.cumulative.snr_db);});
var top=Math.min(100,Math.max.apply(null,vals.concat([10]))),bot=Math.max(-10,Math.min.apply(null,vals.concat([0])));
function X(i){return L+(W-L-10)*(acts.length>1?i/(acts.length-1):0.5);}function Y(v){v=Math.max(bot,Math.min(top,v));return 10+(H-B-10)*(top-v)/(top-bot||1);}
for(var g=Math.ceil(bot/10)*10;g<=top;g+=10){el('line',{x1:L,x2:W-10,y1:Y(g),y2:Y(g),stroke:'#eee'},svg,1);el('text',{x:L-6,y:Y(g)+4,'text-anchor':'end','font-size':11,text:g},svg,1);}
el('text',{x:12,y:H/2,'font-size':11,transform:'rotate(-90 12 '+H/2+')',text:'SNR dB'},svg,1);
el('text',{x:W/2,y:H-6,'font-size':11,'text-anchor':'middle',text:'quantized activations in graph order ('+acts.length+')'},svg,1);
function line(get,color){var d='';acts.forEach(function(t,i){var v=get(t);if(v===null)return;d+=(d?'L':'M')+X(i).toFixed(1)+' '+Y(v).toFixed(1);});
 if(d)el('path',{d:d,fill:'none',stroke:color,'stroke-width':1.5},svg,1);
 acts.forEach(function(t,i){var v=get(t);if(v===null)return;var c=el('circle',{cx:X(i),cy:Y(v),r:2.5,fill:color},svg,1);el('title',{text:t.node+' / '+t.tensor+': '+f(v)+' dB'},c,1);});}
line(function(t){return t.isolated.snr_db;},'#2e86c1');line(function(t){return t.cumulative?t.cumulative.snr_db:null;},'#c0392b');
var cols=[['node','l',function(t){return t.node;}],['tensor','l',function(t){return t.tensor;}],['op','l',function(t){return t.op_type;}],
 ['kind','l',function(t){return t.kind;}],['dtype','l',function(t){return t.dtype+(t.per_channel?' /ch':'');}],['method','l',function(t){return t.method+(sat(t)?' (clip where readers saturate)':'');}],
 ['isolated dB','',function(t){return t.isolated.snr_db;}],['cumulative dB','',function(t){return t.cumulative?t.cumulative.snr_db:null;}],
 ['cosine','',function(t){return t.cumulative?t.cumulative.cosine:null;}],['max abs err','',function(t){return t.cumulative?t.cumulative.max_abs_error:t.isolated.max_abs_error;}],
 ['clipped %','',function(t){return 100*t.clipped_share;}],['ch. spread','',function(t){return t.channel_spread===undefined?null:t.channel_spread;}],
 ['only-this out dB','',function(t){return t.sensitivity?t.sensitivity.output_snr_db_only_this:null;}],['int16 gain dB','',function(t){return t.sensitivity?t.sensitivity.int16_gain_db:null;}],
 ['int16 gain integer dB','',function(t){return t.sensitivity&&t.sensitivity.int16_gain_integer_db!==undefined?t.sensitivity.int16_gain_integer_db:null;}],
 ['MACs','',function(t){return t.macs;}]];
function sat(t){return t.readers_saturate&&t.clipped_share>0.005;}
var rows=R.tensors.slice(),sortCol=6,asc=true;
function draw(){var box=document.getElementById('table');box.innerHTML='';var tb=el('table',{id:'offenders'},box),hr=el('tr',{},tb);
 cols.forEach(function(c,i){var th=el('th',{'class':c[1],text:c[0]+(i===sortCol?(asc?' \u25b2':' \u25bc'):'')},hr);th.onclick=function(){if(sortCol===i)asc=!asc;else{sortCol=i;asc=true;}draw();};});
 rows.sort(function(a,b){var x=cols[sortCol][2](a),y=cols[sortCol][2](b);if(x===y)return 0;if(x===null)return 1;if(y===null)return -1;return (x<y?-1:1)*(asc?1:-1);});
 rows.forEach(function(t){var r=el('tr',{},tb),iso=t.isolated.snr_db;if(sat(t))r.className='sat';else if(iso<20)r.className='bad';else if(iso<30||t.clipped_share>0.005)r.className='warn';
  cols.forEach(function(c){var v=c[2](t);el('td',{'class':c[1],text:typeof v==='number'?(c[0]==='MACs'?v:f(v,c[0]==='cosine'?5:2)):(v===null?'':v)},r);});});}
draw();
var hb=document.getElementById('hists');
R.tensors.forEach(function(t){var box=el('div',{'class':'hist'},hb);el('div',{text:t.node+' / '+t.tensor+' ('+t.method+', clipped '+f(100*t.clipped_share,3)+' %)'},box);
 var w=280,hh=80,s=el('svg',{width:w,height:hh+14},box,1),c=t.histogram.counts,n=c.length,mx=Math.max.apply(null,c.concat([1]));
 c.forEach(function(v,i){if(!v)return;var bh=Math.max(1,hh*Math.log(1+v)/Math.log(1+mx));el('rect',{x:i*w/n,y:hh-bh,width:Math.max(1,w/n-0.5),height:bh,fill:'#7f8c8d'},s,1);});
 [t.range[0],t.range[1]].forEach(function(v){var x=w*(v-t.histogram.min)/((t.histogram.max-t.histogram.min)||1);el('line',{x1:x,x2:x,y1:0,y2:hh,stroke:'#e74c3c','stroke-width':1.5},s,1);});
 el('text',{x:0,y:hh+12,'font-size':10,text:f(t.histogram.min,3)},s,1);el('text',{x:w,y:hh+12,'font-size':10,'text-anchor':'end',text:f(t.histogram.max,3)},s,1);});
el('div',{id:'report-rendered','data-tensors':R.tensors.length,text:''},document.body);
})();
</script></body></html>
)HTML";

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  file.close();
  if (!file) throw Error(StatusCode::kIoError, fmt::format("cannot write '{}'", path.string()));
}

}  // namespace

std::string PrecisionReport::to_json() const {
  nlohmann::json j;
  j["schema"] = "libquant.precision_report";
  j["version"] = kSchemaVersion;
  j["model"] = model;
  j["samples"] = samples;
  j["seconds"] = seconds;
  j["total_macs"] = total_macs;
  if (!estimate_json.empty()) j["estimate"] = nlohmann::json::parse(estimate_json);
  j["isolated_method"] = "fake-quantize only this tensor, its float values as input";
  nlohmann::json outs = nlohmann::json::object();
  for (const auto& [name, f] : outputs) outs[name] = figures_json(f);
  j["outputs"] = outs;
  nlohmann::json fake = nlohmann::json::object();
  for (const auto& [name, snr] : fake_quant_output_snr_db) fake[name] = finite(snr);
  j["fake_quant_output_snr_db"] = fake;
  j["tensors"] = nlohmann::json::array();
  for (const TensorAnalysis& t : tensors) j["tensors"].push_back(tensor_json(t));
  j["suggestions"] = suggestions;
  j["suggestion_configs"] = nlohmann::json::array();
  for (const std::string& config : suggestion_configs) {
    j["suggestion_configs"].push_back(config.empty() ? nlohmann::json() : nlohmann::json::parse(config));
  }
  j["sensitivity_method"] =
      "output_snr_db_only_this and int16_gain_db: fake-quantized model; int16_gain_integer_db: recompiled integer "
      "program run by the fixed-point Simulator";
  j["notes"] = notes;
  return j.dump(1);
}

std::string PrecisionReport::to_html() const {
  std::string data = nlohmann::json::parse(to_json()).dump(-1, ' ', true);
  // Inside <script>, "</" would end the element.
  for (size_t at = data.find("</"); at != std::string::npos; at = data.find("</", at + 3)) data.replace(at, 2, "<\\/");
  std::string html = kHtml;
  html.replace(html.find("@DATA@"), 6, data);
  return html;
}

void PrecisionReport::write(const std::string& dir) const {
  const fs::path out(dir);
  const fs::path parent = out.has_parent_path() ? out.parent_path() : fs::path(".");
  fs::create_directories(parent);
  std::random_device seed;
  const fs::path staging = parent / fmt::format(".{}.partial-{:08x}", out.filename().string(), seed());
  try {
    fs::create_directories(staging);
    write_file(staging / "report.json", to_json() + "\n");
    write_file(staging / "report.html", to_html());
    if (!dump_float.empty()) {
      fs::create_directories(staging / "dumps" / "float");
      fs::create_directories(staging / "dumps" / "fixed");
      auto file_name = [](std::string name) {
        for (char& c : name) {
          if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
        }
        return name + ".npy";
      };
      for (const auto& [name, t] : dump_float) save_npy(t, (staging / "dumps" / "float" / file_name(name)).string());
      for (const auto& [name, t] : dump_fixed) save_npy(t, (staging / "dumps" / "fixed" / file_name(name)).string());
    }
    fs::create_directories(out);
    for (const char* name : {"report.json", "report.html", "dumps"}) {
      if (!fs::exists(staging / name)) continue;
      fs::remove_all(out / name);
      fs::rename(staging / name, out / name);
    }
    fs::remove_all(staging);
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    throw Error(StatusCode::kIoError, fmt::format("writing the precision report into '{}': {}", dir, e.what()));
  }
}

}  // namespace lq
