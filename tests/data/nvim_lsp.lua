-- Drives Neovim (0.11 or later) headless against `conceptgraph server`, which the set-up run
-- before this script starts (a snippet of docs/editors.md, as a user's init.lua would): open
-- a note, wait for its diagnostics, type a broken link, wait for that one too, rename the
-- note; write what was shown to CG_OUT, a line each.
local out = os.getenv("CG_OUT")
local note = os.getenv("CG_NOTE")
local shown = {}

local function diagnostics(step)
  for _, d in ipairs(vim.diagnostic.get(0)) do
    table.insert(shown, string.format("%s %d:%d %s %s", step, d.lnum + 1, d.col + 1, d.code or "", d.message))
  end
end

local function has(pattern)
  return function()
    for _, d in ipairs(vim.diagnostic.get(0)) do
      if string.find(d.message, pattern, 1, true) then return true end
    end
    return false
  end
end

-- Each step waits for what it needs; the first that does not get it ends the run, named, so a
-- failure reads as that step rather than as the test's timeout.
local function step(name, ok)
  if not ok then table.insert(shown, "failed " .. name) end
  return ok
end

local function run()
  vim.cmd("edit " .. vim.fn.fnameescape(note))
  local function attached()
    return #vim.lsp.get_clients({ bufnr = 0, name = "conceptgraph" }) > 0
  end
  if not step("attach", vim.wait(30000, attached, 50)) then return end
  table.insert(shown, "root " .. vim.lsp.get_clients({ bufnr = 0 })[1].root_dir)
  if not step("open", vim.wait(30000, has("missing"), 50)) then return end
  diagnostics("open")
  vim.api.nvim_buf_set_lines(0, -1, -1, false, { "", "Now [[typed-in]] too." })
  if not step("typed", vim.wait(30000, has("typed-in"), 50)) then return end
  diagnostics("typed")
  -- What is on disk before the rename: typing does not save.
  for _, line in ipairs(vim.fn.readfile(note)) do table.insert(shown, "disk " .. line) end
  -- Rename the note itself (the cursor on prose, not on a link or heading), saved everywhere.
  vim.api.nvim_win_set_cursor(0, { 3, 0 })
  vim.lsp.buf.rename("alpha")
  local renamed = vim.fs.joinpath(vim.fs.dirname(note), "alpha.md")
  local function moved() return vim.uv.fs_stat(renamed) ~= nil end
  if not step("rename", vim.wait(30000, moved, 50)) then return end
  table.insert(shown, "renamed alpha.md")
  vim.cmd("silent! wall")
end

run()
vim.fn.writefile(shown, out)
vim.lsp.stop_client(vim.lsp.get_clients())
vim.cmd("qa!")
