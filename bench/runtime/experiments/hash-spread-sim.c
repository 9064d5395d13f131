#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
typedef unsigned __int128 u128;
#define WY0 0xa0761d6478bd642full
#define WY1 0xe7037ed1a0b428dbull
static uint64_t mix(uint64_t a, uint64_t b){u128 r=(u128)a*b; return (uint64_t)r^(uint64_t)(r>>64);}
static uint64_t old(uint64_t k, uint64_t seed, uint64_t mul){(void)mul; uint64_t a=(k<<32)|(k>>32), b=k; a^=WY1; b^=seed; u128 r=(u128)a*b; a=(uint64_t)r; b=(uint64_t)(r>>64); return mix(a^WY0^8u, b^WY1);}
static uint64_t f1(uint64_t k, uint64_t s, uint64_t m){return mix(k^s,m);}
static uint64_t f2(uint64_t k, uint64_t s, uint64_t m){uint64_t h=mix(k^s,m); return h^(h>>32);}
static uint64_t f3(uint64_t k, uint64_t s, uint64_t m){uint64_t h=mix(k^s,m); return h^(h>>29)^(h>>47);}
static uint64_t f4(uint64_t k, uint64_t s, uint64_t m){u128 r=(u128)(k^s)*m; uint64_t lo=(uint64_t)r, hi=(uint64_t)(r>>64); return hi ^ ((lo>>32)|(lo<<32));}
static uint64_t f5(uint64_t k, uint64_t s, uint64_t m){uint64_t h=mix(k^s,m); return (h>>32)|(h<<32);}
typedef uint64_t (*hf)(uint64_t,uint64_t,uint64_t);
static uint64_t hkeys(uint64_t raw, uint64_t *mul){uint64_t seed=raw^mix(raw^WY0,WY1); uint64_t m=mix(raw^WY1,WY0)|1; while(__builtin_popcountll(m)<24||__builtin_popcountll(m)>40) m=mix(m^WY1,WY0)|1; *mul=m; return seed;}
static unsigned char occ[4][1<<20];
int main(int argc,char**argv){
  hf fs[]={old,f1,f2,f3,f4,f5}; const char*names[]={"wyhash","fold","fold^>>32","fold^>>29^>>47","hi^rot(lo)","rot32(fold)"};
  unsigned shifts[]={0,4,8,16,24,32,40,48,64, 65};
  unsigned N=1u<<16, G=4096; /* per shard groups */
  if(argc>1) N=atoi(argv[1]); if(argc>2) G=atoi(argv[2]);
  for(int fi=0;fi<6;fi++){
    unsigned worst=0; double sumw=0; int cases=0; unsigned hist[64]={0};
    for(uint64_t seedi=1;seedi<=32;seedi++){
      uint64_t mul, seed=hkeys(seedi*0x9e3779b97f4a7c15ull,&mul);
      for(unsigned f=0;f<sizeof shifts/sizeof*shifts;f++){
        memset(occ,0,sizeof occ); unsigned w=0;
        for(uint64_t i=0;i<N;i++){
          uint64_t k= shifts[f]<64? i<<shifts[f] : shifts[f]==64 ? ((i&0xff)|((i>>8)<<56)) : (i*0x100000001ull);
          uint64_t h=fs[fi](k,seed,mul); unsigned sh=(h>>32)&3; size_t g=h&(G-1); unsigned n=1;
          for(size_t step=1; occ[sh][g]>=7 && n<60; step++,n++) g=(g+step)&(G-1); if(n>=60) {n=60; continue;}
          occ[sh][g]++; if(n>w) w=n;
        }
        if(w>worst)worst=w; sumw+=w; cases++; hist[w<63?w:63]++;
      }
    }
    printf("%-16s worst %2u mean-worst %.2f  hist:", names[fi], worst, sumw/cases);
    for(int i=1;i<30;i++) if(hist[i]) printf(" %d:%u",i,hist[i]); printf("\n");
  }
}
