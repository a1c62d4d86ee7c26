-- Drives Neovim (0.7 or later) headless against `conceptgraph server`: open a note, wait for
-- its diagnostics, type a broken link, wait for that one too (and with CG_RENAME, rename the
-- note); write what was shown to CG_OUT.
local out = os.getenv("CG_OUT")
local shown = {}

local function diagnostics(step)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code) or ""
    table.insert(shown, string.format("%s %d:%d %s %s", step, d.lnum + 1, d.col + 1, code, d.message))
  end
end

local client = vim.lsp.start_client({
  name = "conceptgraph",
  cmd = { os.getenv("CG_PYTHON"), "-m", "conceptgraph", "server" },
  root_dir = os.getenv("CG_VAULT"),
})
vim.cmd("edit " .. vim.fn.fnameescape(os.getenv("CG_NOTE")))
vim.lsp.buf_attach_client(0, client)

local function has(pattern)
  return function()
    for _, d in ipairs(vim.diagnostic.get(0)) do
      if string.find(d.message, pattern, 1, true) then return true end
    end
    return false
  end
end

if vim.wait(60000, has("missing"), 50) then diagnostics("open") end
vim.api.nvim_buf_set_lines(0, -1, -1, false, { "", "Now [[typed-in]] too." })
if vim.wait(60000, has("typed-in"), 50) then diagnostics("typed") end
if os.getenv("CG_RENAME") then
  -- Rename the note itself (the cursor on prose, not on a link or heading), saved everywhere.
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  vim.lsp.buf.rename("alpha")
  local renamed = os.getenv("CG_VAULT") .. "/alpha.md"
  if vim.wait(60000, function() return vim.loop.fs_stat(renamed) ~= nil end, 50) then
    table.insert(shown, "renamed alpha.md")
  end
  vim.cmd("silent! wall")
end
vim.fn.writefile(shown, out)
vim.lsp.stop_client(client)
vim.cmd("qa!")
