import struct,socket,random,sys
# python3 gen.py: the base set; python3 gen.py enc (in enc/): every IPv6 request is dropped inside
# node-a after its vxlan-v6.calico, before the underlay (no reply).
ENC=sys.argv[1:]==['enc']
random.seed(1)
def fold(s):
    while s>>16: s=(s&0xffff)+(s>>16)
    return s
def csum(b):
    if len(b)%2: b+=b'\0'
    return (~fold(sum(struct.unpack('!%dH'%(len(b)//2),b))))&0xffff
def ip4(src,dst,proto,pl,ttl,ident):
    h=struct.pack('!BBHHHBBH4s4s',0x45,0,20+len(pl),ident,0x4000,ttl,proto,0,socket.inet_aton(src),socket.inet_aton(dst))
    h=h[:10]+struct.pack('!H',csum(h))+h[12:]; return h+pl
def ip6(src,dst,nh,pl,hl):
    return struct.pack('!IHBB',6<<28,len(pl),nh,hl)+socket.inet_pton(socket.AF_INET6,src)+socket.inet_pton(socket.AF_INET6,dst)+pl
def udp(src,dst,sp,dp,data,v6):
    u=struct.pack('!HHHH',sp,dp,8+len(data),0)+data
    if v6: ph=socket.inet_pton(socket.AF_INET6,src)+socket.inet_pton(socket.AF_INET6,dst)+struct.pack('!IxxxB',len(u),17)
    else: ph=socket.inet_aton(src)+socket.inet_aton(dst)+struct.pack('!xBH',17,len(u))
    c=csum(ph+u) or 0xffff; return u[:6]+struct.pack('!H',c)+u[8:]
def mac(s): return bytes.fromhex(s.replace(':',''))
def eth(src,dst,et,p): return mac(dst)+mac(src)+struct.pack('!H',et)+p
class W:
    def __init__(s,fn): s.f=open(fn,'wb'); s.f.write(struct.pack('<IHHiIII',0xa1b23c4d,2,4,0,0,262144,1))
    def w(s,t,b): s.f.write(struct.pack('<IIII',int(t),int(round((t%1)*1e9)),len(b),len(b))+b)
P4A,P4B='10.244.1.5','10.244.2.7'; P6A,P6B='fd00:10:244:1::5','fd00:10:244:2::7'
N4A,N4B='192.168.10.2','192.168.20.2'; R4A,R4B='192.168.10.1','192.168.20.1'
N6A,N6B='fd00:192:168:10::2','fd00:192:168:20::2'
PMA,PMB,EE='0a:58:0a:f4:01:05','0a:58:0a:f4:02:07','ee:ee:ee:ee:ee:ee'
VA,VB,VA6,VB6='66:00:00:00:01:00','66:00:00:00:02:00','66:00:00:00:01:06','66:00:00:00:02:06'
NAM,NBM,RAM,RBM='02:00:00:00:0a:02','02:00:00:00:14:02','02:00:00:00:0a:01','02:00:00:00:14:01'
f={n:W(n+'.pcap') for n in ['node-a-cali1a2b3c4d5e6','node-a-vxlan.calico','node-a-vxlan-v6.calico','node-a-eth0','router-1-eth0','router-1-eth1','node-b-eth0','node-b-vxlan.calico','node-b-vxlan-v6.calico','node-b-cali6f5e4d3c2b1']}
def inner(v6,src,dst,sp,dp,data,ttl,ident):
    u=udp(src,dst,sp,dp,data,v6)
    return (ip6(src,dst,17,u,ttl),0x86dd) if v6 else (ip4(src,dst,17,u,ttl,ident),0x800)
def outer(v6,osrc,odst,sport,ip_in,et,vmacs,ttl,oid):
    vni=4097 if v6 else 4096
    ie=eth(vmacs[0],vmacs[1],et,ip_in)
    vx=struct.pack('!II',0x08000000,vni<<8)+ie
    u=udp(osrc,odst,sport,4789,vx,v6)
    if v6: return ip6(osrc,odst,17,u,ttl),0x86dd
    u=u[:6]+b'\0\0'+u[8:]
    return ip4(osrc,odst,17,u,ttl,oid),0x800
t=1700000000.0; lost6=set(range(10)) if ENC else {3,7}
for i in range(10):
  for v6 in (False,True):
    t+=0.05
    pa,pb=(P6A,P6B) if v6 else (P4A,P4B); na,nb=(N6A,N6B) if v6 else (N4A,N4B)
    dev='vxlan-v6.calico' if v6 else 'vxlan.calico'; va,vb=(VA6,VB6) if v6 else (VA,VB)
    data=('req%d'%i).encode()*8; ident=random.randrange(65536); oid=random.randrange(65536)
    sp=random.randrange(32768,60000)
    # request a->b
    ii,et=inner(v6,pa,pb,40000+v6,9000,data,64,ident); f['node-a-cali1a2b3c4d5e6'].w(t,eth(PMA,EE,et,ii))
    ii,et=inner(v6,pa,pb,40000+v6,9000,data,63,ident); f['node-a-'+dev].w(t+10e-6,eth(va,vb,et,ii))
    if ENC and v6: continue
    o,oet=outer(v6,na,nb,sp,ii,et,(va,vb),64,oid); f['node-a-eth0'].w(t+20e-6,eth(NAM,RAM,oet,o)); f['router-1-eth0'].w(t+30e-6,eth(NAM,RAM,oet,o))
    if not (v6 and i in lost6):
      o,oet=outer(v6,na,nb,sp,ii,et,(va,vb),63,oid); f['router-1-eth1'].w(t+40e-6,eth(RBM,NBM,oet,o)); f['node-b-eth0'].w(t+50e-6,eth(RBM,NBM,oet,o))
      f['node-b-'+dev].w(t+60e-6,eth(va,vb,et,ii))
      ii2,_=inner(v6,pa,pb,40000+v6,9000,data,62,ident); f['node-b-cali6f5e4d3c2b1'].w(t+70e-6,eth(EE,PMB,et,ii2))
      # reply b->a
      t2=t+200e-6; ident=random.randrange(65536); oid=random.randrange(65536); rdata=('rep%d'%i).encode()*8
      ii,et=inner(v6,pb,pa,9000,40000+v6,rdata,64,ident); f['node-b-cali6f5e4d3c2b1'].w(t2,eth(PMB,EE,et,ii))
      ii,et=inner(v6,pb,pa,9000,40000+v6,rdata,63,ident); f['node-b-'+dev].w(t2+10e-6,eth(vb,va,et,ii))
      o,oet=outer(v6,nb,na,sp+1,ii,et,(vb,va),64,oid); f['node-b-eth0'].w(t2+20e-6,eth(NBM,RBM,oet,o)); f['router-1-eth1'].w(t2+30e-6,eth(NBM,RBM,oet,o))
      o,oet=outer(v6,nb,na,sp+1,ii,et,(vb,va),63,oid); f['router-1-eth0'].w(t2+40e-6,eth(RAM,NAM,oet,o)); f['node-a-eth0'].w(t2+50e-6,eth(RAM,NAM,oet,o))
      f['node-a-'+dev].w(t2+60e-6,eth(vb,va,et,ii))
      ii2,_=inner(v6,pb,pa,9000,40000+v6,rdata,62,ident); f['node-a-cali1a2b3c4d5e6'].w(t2+70e-6,eth(EE,PMA,et,ii2))
