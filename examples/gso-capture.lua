-- examples/gso.lua, rewritten with ipft.capture: the same four values, no assembly. The compiler reads the
-- skb's head and end, finds skb_shared_info, and packs the fields; decode() turns the bytes back into a
-- table whose keys print in this order:
--   ( len: 142 gso_size: 0 gso_segs: 0 gso_type: 0x0 )
-- (gso_type:flags(SKB_GSO) would print the flag names instead: SKB_GSO_TCPV4|SKB_GSO_TCPV6 ...)
local module, decode = ipft.capture{
  "skb->len",
  "gso_size=skb_shinfo(skb)->gso_size",
  "gso_segs=skb_shinfo(skb)->gso_segs",
  "gso_type=skb_shinfo(skb)->gso_type:hex",
}

function emit() return module end
function dump(data) return decode(data) end
